/**
 * Slot groups read from the P4Info (p4/README.md "Slot groups", "Dirty tracking", "Delta push"):
 * the registers sharing one index space, in word order, each word's field layout, how flows are
 * placed, and the group's dirty bitmap, epoch, delta digest and collision counter. Nothing here
 * knows stateful_edge: every name, width and size comes from the annotations and the P4Info.
 */
import { parseHashAlgorithm } from 'p4runtime-ts';
import type { P4Schema, RegisterInfo, SchemaEntity } from 'p4runtime-ts';
import { arity, contractError, entityLabel, intArg, onlyOne, required, stringArg } from './annotation-reader.js';
import { readChangeLog, readNewFlowDigest } from './change-log-spec.js';
import type { ChangeLogSpec, NewFlowDigestSpec } from './change-log-spec.js';
import { validatePlacementSpec } from './placement.js';
import { readReclaim } from './reclaim-spec.js';
import type { ReclaimSpec } from './reclaim-spec.js';
import type { HashChoice, PlacementSpec } from './placement.js';

/** Where a named field sits inside one word of the slot. */
export interface FieldRef {
  readonly name: string;
  readonly word: number;
  /** Alias of the register holding the word. */
  readonly register: string;
  /** Bit position of the field's least significant bit inside the word. */
  readonly lsb: number;
  readonly bits: number;
}

/** One register of a group. */
export interface SlotWord {
  readonly index: number;
  /** P4Info alias, e.g. `ct_key_addr`. */
  readonly register: string;
  readonly registerId: number;
  readonly bits: number;
  /** Fields MSB first, as @migrate_layout lists them. */
  readonly fields: readonly FieldRef[];
}

/** The double-buffered dirty bitmap of a group. */
export interface DirtySpec {
  readonly register: string;
  readonly registerId: number;
  readonly epochRegister: string;
  readonly epochRegisterId: number;
  readonly epochBits: number;
  /** Total words in the bitmap register: two buffers of `wordsPerBuffer`. */
  readonly words: number;
  readonly wordsPerBuffer: number;
  /** Slots per word (the bitmap register's width). */
  readonly slotsPerWord: number;
}

/** The digest that streams a group's changed slots. */
export interface DeltaDigestSpec {
  readonly digest: string;
  readonly digestId: number;
  /** Member holding the slot index. */
  readonly slotMember: string;
  /** Member holding the VM id. */
  readonly vmMember: string;
  /** Member of each word, in word order (named like the word's register). */
  readonly wordMembers: readonly string[];
  /** Whether the digest carries `tracker`, `epoch` and `seq` (its place in a change log). */
  readonly sequenced: boolean;
  /**
   * Whether the digest also carries `change` (bit<32>): the tracker's changes before this one, so
   * every change has its own number and a lost digest leaves a gap (p4/README.md "Delta push").
   * Only with a change log that declares its changes register.
   */
  readonly numbered: boolean;
}

/** One slot group: registers sharing an index space, their layout, and how flows are placed. */
export interface SlotGroupSpec {
  readonly name: string;
  readonly slots: number;
  readonly words: readonly SlotWord[];
  /** Every field of the group by name. */
  readonly fields: ReadonlyMap<string, FieldRef>;
  /** Field names in word order, MSB first within a word. */
  readonly fieldNames: readonly string[];
  readonly placement: PlacementSpec;
  /** The key fields in hash-input order. */
  readonly key: readonly FieldRef[];
  /** The slot holds a flow iff this field is non-zero. */
  readonly valid: FieldRef;
  /** The field holding the owning VM's switch-local id. */
  readonly vm: FieldRef;
  readonly clock: { readonly field: FieldRef; readonly unit: string } | undefined;
  /** When the pipeline may give an occupied slot to another flow (undefined: at any time). */
  readonly reclaim: ReclaimSpec | undefined;
  readonly delta: DeltaDigestSpec | undefined;
  /** Alias of the counter (indexed by VM id) counting flows that found no free slot. */
  readonly collisionCounter: string | undefined;
  readonly dirty: DirtySpec | undefined;
  /** Per-migration change logs (p4/README.md "Change logs"). */
  readonly changeLog: ChangeLogSpec | undefined;
  /** The digest announcing flows that take a slot (per-VM slot index). */
  readonly newFlow: NewFlowDigestSpec | undefined;
}

const FORMS = {
  group: '@migrate_group("group", word)',
  layout: '@migrate_layout("field:bits field:bits ...") listing the fields MSB first',
  key: '@migrate_key("field field ...") naming layout fields in hash-input order',
  hash: '@migrate_hash("algo", base, max, ...) with one triple per hash choice, in probe order',
  ways: '@migrate_ways(n)',
  valid: '@migrate_valid("field")',
  vm: '@migrate_vm("field")',
  clock: '@migrate_clock("field", "unit")',
  delta: '@migrate_delta("digest")',
  collision: '@migrate_collision("counter")',
  dirty: '@migrate_dirty("group", "epoch register")',
  epoch: '@migrate_epoch("group")',
} as const;

/** Parses `"name:bits name:bits ..."` (MSB first) into field positions inside one word. */
function readLayout(reg: RegisterInfo, word: number): FieldRef[] {
  const a = required(reg, 'migrate_layout', FORMS.layout, 'every register of a slot group declares its fields');
  arity(reg, a, 1, 1, FORMS.layout);
  const spec = stringArg(reg, a, 0, FORMS.layout);
  const parts = spec.split(/\s+/).map((p) => {
    const m = /^([A-Za-z_]\w*):(\d+)$/.exec(p);
    if (!m || Number(m[2]) === 0) throw contractError(reg, 'migrate_layout', `layout item '${p}' is malformed; write field:bits with bits >= 1, e.g. "vm_addr:32"`);
    return { name: m[1] ?? '', bits: Number(m[2]) };
  });
  const total = parts.reduce((n, p) => n + p.bits, 0);
  if (total !== reg.bitwidth) {
    throw contractError(reg, 'migrate_layout', `@migrate_layout covers ${total} bits but the register is ${reg.bitwidth} bits wide; make the field widths add up to ${reg.bitwidth}`);
  }
  let top = reg.bitwidth;
  return parts.map((p) => {
    top -= p.bits;
    return Object.freeze({ name: p.name, word, register: reg.alias, lsb: top, bits: p.bits });
  });
}

function fieldRef(fields: ReadonlyMap<string, FieldRef>, head: SchemaEntity, annotation: string, name: string): FieldRef {
  const f = fields.get(name);
  if (!f) {
    throw contractError(head, annotation, `@${annotation} names field '${name}', which no @migrate_layout of the group declares (fields: ${[...fields.keys()].join(', ')}); name one of those`);
  }
  return f;
}

/** Reads every slot group declared by @migrate_group annotations in the P4Info. */
export function readSlotGroups(schema: P4Schema): SlotGroupSpec[] {
  const byGroup = new Map<string, { reg: RegisterInfo; word: number }[]>();
  for (const reg of schema.registers) {
    const a = onlyOne(reg, 'migrate_group');
    if (!a) continue;
    arity(reg, a, 2, 2, FORMS.group);
    const group = stringArg(reg, a, 0, FORMS.group);
    const word = intArg(reg, a, 1, FORMS.group);
    if (reg.bitwidth <= 0 || reg.bitwidth > 64) {
      throw contractError(reg, 'migrate_group', `the register is ${reg.bitwidth === 0 ? 'not a bit<W>' : `${reg.bitwidth} bits wide`}; slot-group cells must be bit<W> with W <= 64 (Tofino's register width): split the word`);
    }
    byGroup.set(group, [...(byGroup.get(group) ?? []), { reg, word }]);
  }
  return [...byGroup.entries()].map(([group, members]) => readGroup(schema, group, members));
}

function readGroup(schema: P4Schema, group: string, members: { reg: RegisterInfo; word: number }[]): SlotGroupSpec {
  members.sort((a, b) => a.word - b.word);
  members.forEach((m, i) => {
    if (m.word !== i) {
      throw contractError(m.reg, 'migrate_group', `slot group '${group}': words must be numbered 0..${members.length - 1} without gaps or repeats, but this register is word ${m.word} where word ${i} was expected; renumber the @migrate_group words`);
    }
  });
  const first = members[0];
  if (!first) throw new Error(`slot group '${group}' has no registers`);
  const head = first.reg;
  const slots = head.size;
  for (const m of members) {
    if (m.reg.size !== slots) {
      throw contractError(m.reg, 'migrate_group', `slot group '${group}': this register has ${m.reg.size} cells, word 0 (${entityLabel(head)}) has ${slots}; every register of a group shares one index space, so give them one size`);
    }
  }
  const words: SlotWord[] = members.map((m) =>
    Object.freeze({ index: m.word, register: m.reg.alias, registerId: m.reg.id, bits: m.reg.bitwidth, fields: Object.freeze(readLayout(m.reg, m.word)) }),
  );
  const fields = new Map<string, FieldRef>();
  for (const w of words) {
    for (const f of w.fields) {
      if (fields.has(f.name)) {
        const reg = members[w.index]?.reg ?? head;
        throw contractError(reg, 'migrate_layout', `slot group '${group}': field '${f.name}' is declared twice (also in register '${fields.get(f.name)?.register}'); field names must be unique within a group`);
      }
      fields.set(f.name, f);
    }
  }

  const why = `word 0 of slot group '${group}' carries the group-level facts`;
  const keyA = required(head, 'migrate_key', FORMS.key, why);
  arity(head, keyA, 1, 1, FORMS.key);
  const key = stringArg(head, keyA, 0, FORMS.key).split(/\s+/).map((n) => fieldRef(fields, head, 'migrate_key', n));
  if (new Set(key.map((k) => k.name)).size !== key.length) throw contractError(head, 'migrate_key', `@migrate_key lists a field twice (${key.map((k) => k.name).join(' ')}); list each key field once`);

  const hashA = required(head, 'migrate_hash', FORMS.hash, why);
  if (hashA.args.length === 0 || hashA.args.length % 3 !== 0) {
    throw contractError(head, 'migrate_hash', `@migrate_hash has ${hashA.args.length} argument(s), not a whole number of (algo, base, max) triples; write ${FORMS.hash}`);
  }
  const choices: HashChoice[] = [];
  for (let i = 0; i < hashA.args.length; i += 3) {
    const name = stringArg(head, hashA, i, FORMS.hash);
    let algo;
    try {
      algo = parseHashAlgorithm(name);
    } catch (e) {
      throw contractError(head, 'migrate_hash', `@migrate_hash choice ${i / 3 + 1} names algorithm '${name}'; use "crc32", "crc16" or "csum16"`, 'CONTRACT_INVALID', e);
    }
    choices.push({ algo, base: intArg(head, hashA, i + 1, FORMS.hash), max: intArg(head, hashA, i + 2, FORMS.hash) });
  }
  const waysA = onlyOne(head, 'migrate_ways');
  if (waysA) arity(head, waysA, 1, 1, FORMS.ways);
  const ways = waysA ? intArg(head, waysA, 0, FORMS.ways) : 1;
  const placement = validatePlacementSpec({ keyFields: key.map((k) => ({ name: k.name, bits: k.bits })), choices, ways, slots }, entityLabel(head));

  const named = (ann: string, form: string, what: string): FieldRef => {
    const a = required(head, ann, form, `${why}, including ${what}`);
    arity(head, a, 1, 1, form);
    return fieldRef(fields, head, ann, stringArg(head, a, 0, form));
  };
  const valid = named('migrate_valid', FORMS.valid, 'the field that is non-zero in an occupied slot');
  const vm = named('migrate_vm', FORMS.vm, "the field holding the owner VM's id");

  const clockA = onlyOne(head, 'migrate_clock');
  let clock: SlotGroupSpec['clock'];
  if (clockA) {
    arity(head, clockA, 2, 2, FORMS.clock);
    const unit = stringArg(head, clockA, 1, FORMS.clock);
    if (!['ns', 'us', 'ms', 's'].includes(unit)) throw contractError(head, 'migrate_clock', `@migrate_clock unit '${unit}' is not one of ns, us, ms, s; write ${FORMS.clock}`);
    clock = Object.freeze({ field: fieldRef(fields, head, 'migrate_clock', stringArg(head, clockA, 0, FORMS.clock)), unit });
  }

  let collisionCounter: string | undefined;
  const collA = onlyOne(head, 'migrate_collision');
  if (collA) {
    arity(head, collA, 1, 1, FORMS.collision);
    const name = stringArg(head, collA, 0, FORMS.collision);
    const c = schema.find('counter', name);
    if (!c) throw contractError(head, 'migrate_collision', `@migrate_collision names counter '${name}', which is not an indirect counter of the P4Info; name the counter (by alias) that counts flows with no free slot`);
    collisionCounter = c.alias;
  }

  const delta = readDelta(schema, head, words);
  const changeLog = readChangeLog(schema, group, slots);
  if (delta?.numbered && changeLog?.changesRegister === undefined) {
    throw contractError(head, 'migrate_delta', `delta digest '${delta.digest}' numbers changes (member 'change') but slot group '${group}' declares no changes register; name it as the fifth argument of @migrate_changelog (p4/README.md "Change logs")`);
  }
  if (changeLog?.changesRegister !== undefined && !delta?.numbered) {
    throw contractError(head, 'migrate_delta', `slot group '${group}' counts changes in '${changeLog.changesRegister}' but ${delta ? `delta digest '${delta.digest}' has no member 'change'` : 'declares no @migrate_delta digest'}; add a bit<32> member 'change' carrying the count before the change (p4/README.md "Delta push")`);
  }

  return Object.freeze({
    name: group,
    slots,
    words: Object.freeze(words),
    fields,
    fieldNames: Object.freeze(words.flatMap((w) => w.fields.map((f) => f.name))),
    placement,
    key: Object.freeze(key),
    valid,
    vm,
    clock,
    reclaim: readReclaim(head, new Set(fields.keys()), clock !== undefined),
    delta,
    collisionCounter,
    dirty: readDirty(schema, group, slots),
    changeLog,
    newFlow: readNewFlowDigest(schema, head),
  });
}

function readDelta(schema: P4Schema, head: RegisterInfo, words: readonly SlotWord[]): DeltaDigestSpec | undefined {
  const a = onlyOne(head, 'migrate_delta');
  if (!a) return undefined;
  arity(head, a, 1, 1, FORMS.delta);
  const name = stringArg(head, a, 0, FORMS.delta);
  const d = schema.digests.find((x) => x.alias === name || x.name === name);
  if (!d) throw contractError(head, 'migrate_delta', `@migrate_delta names digest '${name}', which the P4Info does not declare; name the digest struct the pipeline emits (digests: ${schema.digests.map((x) => x.alias).join(', ') || 'none'})`);
  const expected = [{ name: 'slot', bits: -1 }, { name: 'vm_id', bits: -1 }, ...words.map((w) => ({ name: w.register, bits: w.bits }))];
  for (const want of expected) {
    const m = d.members.find((x) => x.name === want.name);
    if (!m) {
      throw contractError(head, 'migrate_delta', `delta digest '${d.alias}' has no member '${want.name}'; its members must be slot, vm_id, then one per word named like the word's register (${words.map((w) => w.register).join(', ')})`);
    }
    if (want.bits > 0 && m.bitwidth !== want.bits) {
      throw contractError(head, 'migrate_delta', `delta digest '${d.alias}' member '${want.name}' is ${m.bitwidth} bits but register '${want.name}' is ${want.bits}; give the member the register's width`);
    }
  }
  const sequenced = ['tracker', 'epoch', 'seq'].every((n) => d.members.some((x) => x.name === n));
  const change = d.members.find((x) => x.name === 'change');
  if (change && change.bitwidth !== 32) throw contractError(head, 'migrate_delta', `delta digest '${d.alias}' member 'change' is ${change.bitwidth} bits; it numbers the tracker's changes like the changes register, so make it bit<32>`);
  if (change && !sequenced) throw contractError(head, 'migrate_delta', `delta digest '${d.alias}' has 'change' but not all of tracker, epoch and seq; a numbered change must also say which tracker numbered it`);
  return Object.freeze({ digest: d.alias, digestId: d.id, slotMember: 'slot', vmMember: 'vm_id', wordMembers: Object.freeze(words.map((w) => w.register)), sequenced, numbered: change !== undefined });
}

function readDirty(schema: P4Schema, group: string, slots: number): DirtySpec | undefined {
  let found: DirtySpec | undefined;
  for (const reg of schema.registers) {
    const d = onlyOne(reg, 'migrate_dirty');
    if (!d) continue;
    arity(reg, d, 2, 2, FORMS.dirty);
    if (stringArg(reg, d, 0, FORMS.dirty) !== group) continue;
    if (found) throw contractError(reg, 'migrate_dirty', `slot group '${group}' already has dirty bitmap '${found.register}'; declare one bitmap per group`);
    const epochName = stringArg(reg, d, 1, FORMS.dirty);
    const epoch = schema.registers.find((r) => r.alias === epochName || r.name === epochName);
    if (!epoch) throw contractError(reg, 'migrate_dirty', `@migrate_dirty names epoch register '${epochName}', which the P4Info does not declare; name the group's epoch register`);
    const e = required(epoch, 'migrate_epoch', `@migrate_epoch("${group}")`, `it is the epoch register of slot group '${group}' (named by ${entityLabel(reg)})`);
    arity(epoch, e, 1, 1, FORMS.epoch);
    if (stringArg(epoch, e, 0, FORMS.epoch) !== group) throw contractError(epoch, 'migrate_epoch', `@migrate_epoch names group '${String(e.args[0])}' but ${entityLabel(reg)} uses this register as the epoch of group '${group}'; make them agree`);
    if (epoch.size < 1 || epoch.bitwidth < 1 || epoch.bitwidth > 64) throw contractError(epoch, 'migrate_epoch', `the epoch register must be bit<W> (1 <= W <= 64) with at least one cell; it is ${epoch.bitwidth} bits x ${epoch.size}`);
    if (reg.bitwidth < 1 || reg.bitwidth > 64) throw contractError(reg, 'migrate_dirty', `the dirty bitmap is ${reg.bitwidth} bits wide; use bit<W> with 1 <= W <= 64`);
    const needed = Math.ceil(slots / reg.bitwidth);
    if (reg.size !== 2 * needed) {
      throw contractError(reg, 'migrate_dirty', `a double-buffered dirty bitmap for ${slots} slots in ${reg.bitwidth}-bit words needs 2 x ${needed} = ${2 * needed} cells; this register has ${reg.size}: resize it`);
    }
    found = Object.freeze({
      register: reg.alias,
      registerId: reg.id,
      epochRegister: epoch.alias,
      epochRegisterId: epoch.id,
      epochBits: epoch.bitwidth,
      words: reg.size,
      wordsPerBuffer: needed,
      slotsPerWord: reg.bitwidth,
    });
  }
  return found;
}

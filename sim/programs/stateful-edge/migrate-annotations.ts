/**
 * Reads the slot-group part of the migration contract (p4/README.md) from register descriptions
 * as a P4Info holds them — name, bit width, size, annotation strings — and derives the layout and
 * placement from annotations alone. This is how a controller handles any annotated program; it
 * depends on nothing but placement and the hash functions, so it can move to a shared package.
 */
import { parseHashAlgorithm } from 'p4runtime-ts';
import { validatePlacementSpec } from './placement.js';
import type { PlacementSpec } from './placement.js';

/** An annotation as p4c writes it into the P4Info, split into name and arguments. */
export interface ParsedAnnotation {
  readonly name: string;
  readonly args: readonly (string | number | boolean)[];
}

/** A register as the P4Info describes it. */
export interface RegisterInfo {
  /** Alias (short name) or full name; used verbatim in errors and in the result. */
  readonly name: string;
  readonly bitwidth: number;
  readonly size: number;
  readonly annotations: readonly string[];
}

/** Where a named field sits inside one word of the slot. */
export interface FieldRef {
  readonly name: string;
  readonly word: number;
  readonly register: string;
  /** Bit position of the field's least significant bit inside the word. */
  readonly lsb: number;
  readonly bits: number;
}

export interface SlotGroupWord {
  readonly index: number;
  readonly register: string;
  readonly bits: number;
  readonly fields: readonly FieldRef[];
}

export interface DirtySpec {
  readonly register: string;
  readonly epochRegister: string;
  /** Total words in the bitmap register: two buffers of `wordsPerBuffer`. */
  readonly words: number;
  readonly wordsPerBuffer: number;
  /** Slots per word (the dirty register's width). */
  readonly slotsPerWord: number;
}

/** One slot group: registers sharing an index space, their layout, and how flows are placed. */
export interface SlotGroupSpec {
  readonly name: string;
  readonly slots: number;
  readonly words: readonly SlotGroupWord[];
  readonly fields: ReadonlyMap<string, FieldRef>;
  readonly placement: PlacementSpec;
  /** The slot holds a flow iff this field is non-zero. */
  readonly valid: FieldRef;
  /** The field holding the owning VM's switch-local id. */
  readonly vm: FieldRef;
  readonly clock?: { readonly field: FieldRef; readonly unit: string };
  readonly deltaDigest?: string;
  readonly collisionCounter?: string;
  readonly dirty?: DirtySpec;
}

/** Splits `@name(arg , arg)` into name and arguments (strings unquoted, integers as numbers). */
export function parseAnnotation(text: string): ParsedAnnotation {
  const m = /^@([A-Za-z_]\w*)\s*(?:\(([\s\S]*)\))?\s*$/.exec(text.trim());
  if (!m) throw new Error(`annotation '${text}' is malformed; expected @name or @name(arg, ...)`);
  const name = m[1] ?? '';
  const body = m[2];
  const args: (string | number | boolean)[] = [];
  if (body !== undefined && body.trim() !== '') {
    const token = /\s*(?:"((?:[^"\\]|\\.)*)"|(0[xX][0-9a-fA-F]+|\d+)|(true|false))\s*(,|$)/y;
    let pos = 0;
    while (pos < body.length) {
      token.lastIndex = pos;
      const t = token.exec(body);
      if (!t) throw new Error(`annotation '${text}': argument at offset ${pos} is not a string, integer or boolean`);
      if (t[1] !== undefined) args.push(t[1].replace(/\\(.)/g, '$1'));
      else if (t[2] !== undefined) args.push(Number(t[2]));
      else args.push(t[3] === 'true');
      pos = token.lastIndex;
      if (t[4] === '') break;
    }
  }
  return { name, args };
}

/** All annotations of one kind on a register, parsed. */
function annotationsNamed(reg: RegisterInfo, name: string): ParsedAnnotation[] {
  return reg.annotations.map(parseAnnotation).filter((a) => a.name === name);
}

function onlyOne(reg: RegisterInfo, name: string): ParsedAnnotation | undefined {
  const found = annotationsNamed(reg, name);
  if (found.length > 1) throw new Error(`register '${reg.name}': @${name} appears ${found.length} times; expected at most once`);
  return found[0];
}

function stringArg(reg: RegisterInfo, a: ParsedAnnotation, i: number, form: string): string {
  const v = a.args[i];
  if (typeof v !== 'string' || v === '') throw new Error(`register '${reg.name}': @${a.name} argument ${i + 1} must be a non-empty string; expected ${form}`);
  return v;
}

function intArg(reg: RegisterInfo, a: ParsedAnnotation, i: number, form: string): number {
  const v = a.args[i];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(`register '${reg.name}': @${a.name} argument ${i + 1} must be a non-negative integer; expected ${form}`);
  }
  return v;
}

/** Parses `"name:bits name:bits ..."` (MSB first) into field positions inside one word. */
function readLayout(reg: RegisterInfo, word: number): FieldRef[] {
  const a = onlyOne(reg, 'migrate_layout');
  const form = '@migrate_layout("field:bits ...") listing the fields MSB first';
  if (!a) throw new Error(`register '${reg.name}' is in a slot group but has no @migrate_layout; expected ${form}`);
  const spec = stringArg(reg, a, 0, form);
  const parts = spec.trim().split(/\s+/).map((p) => {
    const m = /^([A-Za-z_]\w*):(\d+)$/.exec(p);
    if (!m) throw new Error(`register '${reg.name}': layout item '${p}' is malformed; expected field:bits`);
    return { name: m[1] ?? '', bits: Number(m[2]) };
  });
  const total = parts.reduce((n, p) => n + p.bits, 0);
  if (total !== reg.bitwidth) {
    throw new Error(`register '${reg.name}': @migrate_layout covers ${total} bits but the register is ${reg.bitwidth} bits wide; the widths must add up`);
  }
  let top = reg.bitwidth;
  return parts.map((p) => {
    top -= p.bits;
    return { name: p.name, word, register: reg.name, lsb: top, bits: p.bits };
  });
}

function fieldRef(fields: ReadonlyMap<string, FieldRef>, group: string, name: string, what: string): FieldRef {
  const f = fields.get(name);
  if (!f) throw new Error(`slot group '${group}': ${what} names field '${name}', which no @migrate_layout of the group declares`);
  return f;
}

/** Reads every slot group declared by @migrate_group annotations among `registers`. */
export function readSlotGroups(registers: readonly RegisterInfo[]): SlotGroupSpec[] {
  const byGroup = new Map<string, { reg: RegisterInfo; word: number }[]>();
  for (const reg of registers) {
    const a = onlyOne(reg, 'migrate_group');
    if (!a) continue;
    const form = '@migrate_group("group", word)';
    const group = stringArg(reg, a, 0, form);
    const word = intArg(reg, a, 1, form);
    if (reg.bitwidth > 64) throw new Error(`register '${reg.name}' is ${reg.bitwidth} bits wide; slot-group cells must be at most 64 bits`);
    byGroup.set(group, [...(byGroup.get(group) ?? []), { reg, word }]);
  }
  return [...byGroup.entries()].map(([group, members]) => readGroup(group, members, registers));
}

function readGroup(group: string, members: { reg: RegisterInfo; word: number }[], all: readonly RegisterInfo[]): SlotGroupSpec {
  members.sort((a, b) => a.word - b.word);
  members.forEach((m, i) => {
    if (m.word !== i) throw new Error(`slot group '${group}': words must be numbered 0..${members.length - 1} without gaps; register '${m.reg.name}' has word ${m.word}`);
  });
  const first = members[0];
  if (!first) throw new Error(`slot group '${group}' has no registers`);
  const slots = first.reg.size;
  for (const m of members) {
    if (m.reg.size !== slots) throw new Error(`slot group '${group}': register '${m.reg.name}' has ${m.reg.size} cells, word 0 has ${slots}; every register of a group shares one index space`);
  }
  const words = members.map((m) => ({ index: m.word, register: m.reg.name, bits: m.reg.bitwidth, fields: readLayout(m.reg, m.word) }));
  const fields = new Map<string, FieldRef>();
  for (const w of words) {
    for (const f of w.fields) {
      if (fields.has(f.name)) throw new Error(`slot group '${group}': field '${f.name}' is declared twice`);
      fields.set(f.name, f);
    }
  }

  const head = first.reg;
  const keyA = onlyOne(head, 'migrate_key');
  if (!keyA) throw new Error(`slot group '${group}': word 0 ('${head.name}') has no @migrate_key; expected @migrate_key("field field ...") in hash-input order`);
  const keyFields = stringArg(head, keyA, 0, '@migrate_key("field ...")').trim().split(/\s+/)
    .map((n) => ({ name: n, bits: fieldRef(fields, group, n, '@migrate_key').bits }));

  const hashA = onlyOne(head, 'migrate_hash');
  const hashForm = '@migrate_hash("algo", base, max, ...) with one triple per choice, in probe order';
  if (!hashA || hashA.args.length === 0 || hashA.args.length % 3 !== 0) {
    throw new Error(`slot group '${group}': word 0 ('${head.name}') needs ${hashForm}`);
  }
  const choices = [];
  for (let i = 0; i < hashA.args.length; i += 3) {
    choices.push({
      algo: parseHashAlgorithm(stringArg(head, hashA, i, hashForm)),
      base: intArg(head, hashA, i + 1, hashForm),
      max: intArg(head, hashA, i + 2, hashForm),
    });
  }
  const waysA = onlyOne(head, 'migrate_ways');
  const ways = waysA ? intArg(head, waysA, 0, '@migrate_ways(n), slots per bucket') : 1;
  const placement = validatePlacementSpec({ keyFields, choices, ways, slots });

  const named = (ann: string, what: string): FieldRef => {
    const a = onlyOne(head, ann);
    if (!a) throw new Error(`slot group '${group}': word 0 ('${head.name}') has no @${ann}; expected @${ann}("field") naming ${what}`);
    return fieldRef(fields, group, stringArg(head, a, 0, `@${ann}("field")`), `@${ann}`);
  };
  const clockA = onlyOne(head, 'migrate_clock');
  const deltaA = onlyOne(head, 'migrate_delta');
  const collA = onlyOne(head, 'migrate_collision');

  let dirty: DirtySpec | undefined;
  for (const reg of all) {
    const d = onlyOne(reg, 'migrate_dirty');
    if (!d || stringArg(reg, d, 0, '@migrate_dirty("group", "epoch register")') !== group) continue;
    const epochRegister = stringArg(reg, d, 1, '@migrate_dirty("group", "epoch register")');
    if (!all.some((r) => r.name === epochRegister)) throw new Error(`register '${reg.name}': @migrate_dirty names epoch register '${epochRegister}', which does not exist`);
    const needed = Math.ceil(slots / reg.bitwidth);
    if (reg.size !== 2 * needed) {
      throw new Error(`register '${reg.name}': a double-buffered dirty bitmap for ${slots} slots of ${reg.bitwidth}-bit words needs ${2 * needed} cells; it has ${reg.size}`);
    }
    dirty = { register: reg.name, epochRegister, words: reg.size, wordsPerBuffer: needed, slotsPerWord: reg.bitwidth };
  }

  return {
    name: group,
    slots,
    words,
    fields,
    placement,
    valid: named('migrate_valid', 'the field that is non-zero in an occupied slot'),
    vm: named('migrate_vm', "the field holding the owner VM's id"),
    ...(clockA ? { clock: { field: fieldRef(fields, group, stringArg(head, clockA, 0, '@migrate_clock("field", "unit")'), '@migrate_clock'), unit: stringArg(head, clockA, 1, '@migrate_clock("field", "unit")') } } : {}),
    ...(deltaA ? { deltaDigest: stringArg(head, deltaA, 0, '@migrate_delta("digest")') } : {}),
    ...(collA ? { collisionCounter: stringArg(head, collA, 0, '@migrate_collision("counter")') } : {}),
    ...(dirty ? { dirty } : {}),
  };
}

/** The value of one field of a slot, given the slot's words. */
export function fieldValue(words: readonly bigint[], ref: FieldRef): bigint {
  return ((words[ref.word] ?? 0n) >> BigInt(ref.lsb)) & ((1n << BigInt(ref.bits)) - 1n);
}

/** The key field values of a slot (the hash input), by field name. */
export function slotKey(group: SlotGroupSpec, words: readonly bigint[]): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const f of group.placement.keyFields) out[f.name] = fieldValue(words, fieldRef(group.fields, group.name, f.name, 'the key'));
  return out;
}

/** Dirty-bitmap position of a slot for an epoch: buffer (epoch & 1), word, bit. */
export function dirtyPosition(dirty: DirtySpec, slot: number, epoch: number | bigint): { word: number; bit: number } {
  const buffer = Number(BigInt(epoch) & 1n);
  return { word: buffer * dirty.wordsPerBuffer + Math.floor(slot / dirty.slotsPerWord), bit: slot % dirty.slotsPerWord };
}

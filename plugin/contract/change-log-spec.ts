/**
 * Per-migration change logs and new-flow notifications of a slot group (p4/README.md "Change
 * logs", "New-flow notifications"): `@migrate_changelog("G", "head", "round", "mark"[, "changes"])`
 * on the log register, `@migrate_new_flow("digest")` on word 0. Entry, round and mark layouts are fixed by
 * the contract; sizes come from the P4Info.
 */
import type { P4Schema, RegisterInfo, SchemaEntity } from 'p4runtime-ts';
import { arity, contractError, entityLabel, onlyOne, stringArg } from './annotation-reader.js';

/** The change logs of a group: one ring per tracker. */
export interface ChangeLogSpec {
  /** Log register: `trackers × logSize` cells, entry = seq[63:32] ++ slot[31:0]. */
  readonly logRegister: string;
  /** Head register: one cell per tracker, entries ever appended (the next seq), 32 bits. */
  readonly headRegister: string;
  /** Round register: one cell per tracker, epoch[63:32] ++ start[31:0]. */
  readonly roundRegister: string;
  /** Mark register: one cell per slot, (tracker + 1)[39:32] ++ seq[31:0]. */
  readonly markRegister: string;
  /**
   * Changes register (optional fifth argument): one bit<32> cell per tracker, every change the
   * tracker's VM ever made — the number the delta digest's `change` member carries.
   */
  readonly changesRegister: string | undefined;
  readonly trackers: number;
  /** Entries per tracker's ring (a power of two). */
  readonly logSize: number;
}

/** The digest announcing a flow that took a slot: members `slot` and `vm_id`. */
export interface NewFlowDigestSpec {
  readonly digest: string;
  readonly digestId: number;
}

const FORM = '@migrate_changelog("group", "head register", "round register", "mark register"[, "changes register"]) on the log register';
const NEW_FORM = '@migrate_new_flow("digest")';

function register(schema: P4Schema, at: SchemaEntity, name: string, what: string): RegisterInfo {
  const r = schema.registers.find((x) => x.alias === name || x.name === name);
  if (!r) throw contractError(at, 'migrate_changelog', `@migrate_changelog names ${what} register '${name}', which the P4Info does not declare; name it by alias`);
  return r;
}

function shape(r: RegisterInfo, bits: number, size: number, what: string): void {
  if (r.bitwidth !== bits || r.size !== size) {
    throw contractError(r, 'migrate_changelog', `the ${what} register must be bit<${bits}> with ${size} cells (p4/README.md "Change logs"); it is bit<${r.bitwidth}> with ${r.size}`);
  }
}

/** Reads the change logs of group `group` (undefined when none is declared). */
export function readChangeLog(schema: P4Schema, group: string, slots: number): ChangeLogSpec | undefined {
  let found: ChangeLogSpec | undefined;
  for (const reg of schema.registers) {
    const a = onlyOne(reg, 'migrate_changelog');
    if (!a) continue;
    arity(reg, a, 4, 5, FORM);
    if (stringArg(reg, a, 0, FORM) !== group) continue;
    if (found) throw contractError(reg, 'migrate_changelog', `slot group '${group}' already has change log '${found.logRegister}'; declare one per group`);
    const head = register(schema, reg, stringArg(reg, a, 1, FORM), 'head');
    const round = register(schema, reg, stringArg(reg, a, 2, FORM), 'round');
    const mark = register(schema, reg, stringArg(reg, a, 3, FORM), 'mark');
    const trackers = head.size;
    if (trackers < 1 || trackers > 254) throw contractError(head, 'migrate_changelog', `${trackers} trackers; a mark holds tracker + 1 in 8 bits, so use 1..254 cells`);
    shape(head, 32, trackers, 'head');
    shape(round, 64, trackers, 'round');
    shape(mark, 40, slots, 'mark');
    const changes = a.args.length > 4 ? register(schema, reg, stringArg(reg, a, 4, FORM), 'changes') : undefined;
    if (changes) shape(changes, 32, trackers, 'changes');
    const logSize = reg.size / trackers;
    if (reg.bitwidth !== 64 || !Number.isInteger(logSize) || logSize < 16 || (logSize & (logSize - 1)) !== 0) {
      throw contractError(reg, 'migrate_changelog', `the log register must be bit<64> with trackers (${trackers}) × a power of two (>= 16) cells; it is bit<${reg.bitwidth}> with ${reg.size}`);
    }
    found = Object.freeze({ logRegister: reg.alias, headRegister: head.alias, roundRegister: round.alias, markRegister: mark.alias, changesRegister: changes?.alias, trackers, logSize });
  }
  return found;
}

/** Reads `@migrate_new_flow` from word 0 of a group (undefined when absent). */
export function readNewFlowDigest(schema: P4Schema, head: RegisterInfo): NewFlowDigestSpec | undefined {
  const a = onlyOne(head, 'migrate_new_flow');
  if (!a) return undefined;
  arity(head, a, 1, 1, NEW_FORM);
  const name = stringArg(head, a, 0, NEW_FORM);
  const d = schema.digests.find((x) => x.alias === name || x.name === name);
  if (!d) throw contractError(head, 'migrate_new_flow', `@migrate_new_flow names digest '${name}', which the P4Info does not declare (digests: ${schema.digests.map((x) => x.alias).join(', ') || 'none'})`);
  for (const m of ['slot', 'vm_id']) {
    if (!d.members.some((x) => x.name === m)) throw contractError(head, 'migrate_new_flow', `new-flow digest '${d.alias}' (on ${entityLabel(head)}) has no member '${m}'; it must carry slot and vm_id`);
  }
  return Object.freeze({ digest: d.alias, digestId: d.id });
}

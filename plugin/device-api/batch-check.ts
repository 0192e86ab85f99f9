/**
 * What a destination checks in an incoming batch before it writes anything: every slot field and
 * removed-key field is one its slot group declares and fits that field's width, every counter is
 * one of its per-VM counters and fits 64 bits, every table entry belongs to one of its migratable
 * tables with key fields that exist and fit. A batch from a peer that is wrong in one record is
 * refused whole, so a refused import changes nothing.
 */
import type { MigratableTableSpec, SlotGroupSpec } from '../contract/index.js';
import { bitMask } from '../contract/index.js';
import type { SlotRecordOut, StateBatch } from './device-api.js';
import { DeviceApiFailure } from './migration-sessions.js';
import { InLayout } from './slot-words-record.js';

/** Own and inherited enumerable properties, counted without building an array of names (one per slot of a batch). */
function countKeys(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

const fits = (v: unknown, bits: number): boolean => typeof v === 'bigint' && v >= 0n && v <= bitMask(bits);

/**
 * Refuses `batch` unless every record fits `group` and `counters`.
 * @throws DeviceApiFailure PEER_REJECTED naming the record, the field, and what was expected.
 */
export function checkIncomingBatch(group: SlotGroupSpec, counters: readonly string[], batch: StateBatch, what: string, tables: readonly MigratableTableSpec[] = []): void {
  const refuse = (why: string): never => {
    throw new DeviceApiFailure('PEER_REJECTED', `${what}: batch refused, nothing written: ${why}`);
  };
  const all = group.words.flatMap((w) => w.fields);
  const checkFields = (fields: Readonly<Record<string, bigint>>, record: string, keyOnly: boolean): void => {
    // Fast path, per declared field (no name look-up per property): every present one fits, and
    // nothing else is there. Anything else goes through the full walk below, which names it.
    let present = 0;
    let ok = true;
    for (const f of keyOnly ? group.key : all) {
      const v = fields[f.name];
      if (v === undefined) continue;
      present++;
      if (!fits(v, f.bits)) {
        ok = false;
        break;
      }
    }
    if (ok && present === countKeys(fields)) return;
    for (const name in fields) {
      const v = fields[name];
      const f = group.fields.get(name);
      if (!f) refuse(`${record} has field '${name}', which slot group '${group.name}' does not declare (fields: ${group.fieldNames.join(', ')})`);
      else if (keyOnly && !group.key.some((k) => k.name === name)) refuse(`${record} has field '${name}', which is not a key field of slot group '${group.name}' (key: ${group.key.map((k) => k.name).join(', ')})`);
      else if (!fits(v, f.bits)) refuse(`${record} field '${name}' = ${String(v)} does not fit its ${f.bits} bits`);
    }
  };
  const asWords = new InLayout(group);
  // An indexed loop, not a callback made per batch: this runs per slot of the pause's final batch.
  for (let i = 0; i < batch.slots.length; i++) {
    const s = batch.slots[i] as SlotRecordOut;
    // Read at a switch of this layout, in this process: every field fits by construction (its
    // bits are masked out of the words), and the fields are never decoded for a check.
    if (!asWords.has(s)) checkFields(s.fields, `slot ${i}`, false);
  }
  batch.removed.forEach((k, i) => checkFields(k, `removed key ${i}`, true));
  for (const [name, c] of Object.entries(batch.counters ?? {})) {
    if (!counters.includes(name)) refuse(`counter '${name}' is not a per-VM counter here (counters: ${counters.join(', ') || 'none'})`);
    if (!fits(c.packets, 64) || !fits(c.bytes, 64)) refuse(`counter '${name}' = ${String(c.packets)} packets / ${String(c.bytes)} bytes does not fit 64 bits`);
  }
  for (const [i, e] of (batch.tableEntries ?? []).entries()) {
    const t = tables.find((x) => x.table === e.table);
    if (!t) refuse(`table entry ${i} is for table '${e.table}', which is not a migratable table here (tables: ${tables.map((x) => x.table).join(', ') || 'none'})`);
    else {
      for (const [name, v] of Object.entries(e.match)) {
        const k = t.keyFields.find((x) => x.name === name);
        if (!k) refuse(`table entry ${i} has key field '${name}', which table '${t.table}' does not have (key: ${t.keyFields.map((x) => x.name).join(', ')})`);
        else if (!fits(v, k.bits)) refuse(`table entry ${i} key field '${name}' = ${String(v)} does not fit its ${k.bits} bits`);
      }
      if (!fits(e.remainingNs, 64)) refuse(`table entry ${i} remaining lifetime ${String(e.remainingNs)} ns does not fit 64 bits`);
      if (e.counter && (!fits(e.counter.packets, 64) || !fits(e.counter.bytes, 64))) refuse(`table entry ${i} counter does not fit 64 bits`);
    }
  }
}

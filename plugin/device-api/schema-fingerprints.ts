/**
 * The schema fingerprints a device reports in its capabilities: one short hash per slot group,
 * migratable table and per-VM counter, over what a migration depends on (names, widths, layout,
 * placement), so two devices with equal fingerprints need no translation.
 */
import { createHash } from 'node:crypto';
import type { MigrationContract } from '../contract/index.js';

/** A fingerprint per slot group and migratable table: names, widths, layout, placement. */
export function schemaFingerprints(c: MigrationContract): Record<string, string> {
  const fp = (v: unknown): string => createHash('sha256').update(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Map ? [...x.entries()] : x))).digest('hex').slice(0, 16);
  const out: Record<string, string> = {};
  for (const g of c.groups) {
    out[`group:${g.name}`] = fp({ slots: g.slots, words: g.words.map((w) => ({ r: w.register, bits: w.bits, f: w.fields.map((f) => [f.name, f.lsb, f.bits]) })), placement: g.placement, clock: g.clock?.unit });
  }
  for (const t of c.tables) out[`table:${t.table}`] = fp({ key: t.keyFields, vm: t.vmKeyField, counter: t.directCounter !== undefined, idle: t.idleTimeout });
  for (const k of c.counters) out[`counter:${k.counter}`] = fp({ size: k.size, unit: k.unit });
  return out;
}

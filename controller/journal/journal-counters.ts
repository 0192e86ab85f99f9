/**
 * Per-VM counter values in the journal (events.ts, `synced`.counters): what the final batches
 * brought each destination, summed over the sources, kept as decimal strings since JSON has no
 * 64-bit integers — and back to bigints for a recovery that carries them (DeviceApi.activate).
 */
import type { JournalCounters } from '../migration/events.js';

/** Counter values by name, as a device batch carries them. */
export type CounterValues = Readonly<Record<string, { readonly packets: bigint; readonly bytes: bigint }>>;

/** Adds `values` into `into` (by counter name). */
export function addCounterValues(into: Record<string, { packets: bigint; bytes: bigint }>, values: CounterValues): void {
  for (const [name, v] of Object.entries(values)) {
    const had = into[name] ?? { packets: 0n, bytes: 0n };
    into[name] = { packets: had.packets + v.packets, bytes: had.bytes + v.bytes };
  }
}

/** `values` as the journal holds them. */
export function toJournalCounters(values: CounterValues): JournalCounters {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, { packets: v.packets.toString(), bytes: v.bytes.toString() }]));
}

/** Journalled counter values as a device takes them. */
export function fromJournalCounters(values: JournalCounters): CounterValues {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, { packets: BigInt(v.packets), bytes: BigInt(v.bytes) }]));
}

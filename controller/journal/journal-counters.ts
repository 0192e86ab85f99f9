/**
 * Per-VM counter values in the journal (events.ts, `synced`.counters): what the final batches
 * brought each destination, summed over the sources, kept as decimal strings since JSON has no
 * 64-bit integers — and back to bigints for a recovery that carries them (DeviceApi.activate).
 */
import type { VmCounters } from '../../plugin/index.js';
import type { JournalCounters } from '../migration/events.js';

/** Counter values by name, as a device batch carries them. */
export type CounterValues = Readonly<VmCounters>;

/** `values` as the journal holds them. */
export function toJournalCounters(values: CounterValues): JournalCounters {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, { packets: v.packets.toString(), bytes: v.bytes.toString() }]));
}

/** Journalled counter values as a device takes them. */
export function fromJournalCounters(values: JournalCounters): CounterValues {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, { packets: BigInt(v.packets), bytes: BigInt(v.bytes) }]));
}

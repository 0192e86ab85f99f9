/**
 * A timed read of a whole slot group through one register-access backend, for `bench pipeline`:
 * slots per second, and the switch's own CPU per slot when it is a local process.
 */
import { performance } from 'node:perf_hooks';
import type { RegisterAccess, SlotRecord } from '../../plugin/index.js';
import { processCpuMs } from './inband-side-by-side.js';
import type { BenchRow } from './results.js';

const SUITE = 'pipeline';

/**
 * Times a whole-group read; returns the records and its rows: slots/s, and with the switch's pid
 * the switch's own CPU per slot (the part of the read the switch pays, apart from the client's).
 */
export async function timedRead(access: RegisterAccess, variant: string, note: string, switchPid?: number): Promise<{ records: SlotRecord[]; row: BenchRow; rows: BenchRow[] }> {
  const cpu0 = switchPid !== undefined ? processCpuMs(switchPid) : undefined;
  const t0 = performance.now();
  const records = await access.readSlots('all');
  const s = (performance.now() - t0) / 1000;
  const cpu1 = switchPid !== undefined ? processCpuMs(switchPid) : undefined;
  const stats = access.stats();
  const extra = access.capabilities().backend === 'inband' ? `; ${stats.retries} retries, max ${stats.maxInFlight} in flight` : '';
  const row: BenchRow = { suite: SUITE, case: 'read whole conntrack group', variant, value: records.length / s, unit: 'slots/s', note: `${records.length} slots in ${s.toFixed(2)} s, ${note}${extra}` };
  const rows = [row];
  if (cpu0 !== undefined && cpu1 !== undefined && records.length > 0) {
    rows.push({ suite: SUITE, case: 'read whole conntrack group: switch CPU per slot', variant, value: ((cpu1 - cpu0) * 1000) / records.length, unit: 'µs per slot', note: `the switch process (utime+stime from /proc): ${((cpu1 - cpu0) / 1000).toFixed(1)} s for ${records.length} slots` });
  }
  return { records, row, rows };
}

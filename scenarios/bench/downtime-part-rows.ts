/**
 * Bench rows for where QEMU's downtime went (controller/trigger downtimeParts): the hold, and
 * QEMU's own part — with the trigger split into the stop before the pause and the final transfer
 * after it — per mode, so what carryover added reads part by part (a longer own part is the
 * machine still busy around the hold, not the hold).
 */
import type { DowntimeParts, DowntimeSummary } from '../../controller/index.js';
import type { BenchRow } from './results.js';

/** One row per part and mode that has parts (none when QEMU's events were missing). */
export function downtimePartRows(c: string, parts: { readonly without: DowntimeParts | undefined; readonly with: DowntimeParts | undefined }, withLabel: string): BenchRow[] {
  const rows: BenchRow[] = [];
  const named = [
    ['holdMs', 'held in pre-switchover'],
    ['restMs', 'QEMU\'s own part (downtime − hold)'],
    ['headMs', 'of which stop → pause'],
    ['tailMs', 'of which final transfer → completed'],
  ] as const;
  for (const [mode, label] of [['without', 'without'], ['with', withLabel]] as const) {
    const p = parts[mode];
    if (!p) continue;
    for (const [k, what] of named) {
      const v = p[k];
      if (v === undefined || (mode === 'without' && k === 'holdMs')) continue;
      rows.push({ suite: 'qemu', case: `${c}: downtime part, median: ${what}`, variant: label, value: v, unit: 'ms', note: 'by the timestamps on QEMU\'s MIGRATION events (QEMU reports no event between stop and final transfer without a hold)' });
    }
  }
  return rows;
}

/** What guestDowntimeRows reads of a downtime bench result. */
export interface GuestDowntimes {
  readonly guestWithout: DowntimeSummary;
  readonly guestWith: DowntimeSummary;
  readonly guestAddedMedianMs: number;
}

/**
 * Rows for the VM's own downtime — the source's STOP to the destination's RESUME, by QEMU's event
 * timestamps — per mode and what the trigger added to it. QEMU's `downtime` ends when the source
 * sent the last state; the destination may still be loading it, beside the hold.
 */
export function guestDowntimeRows(c: string, r: GuestDowntimes, withLabel: string): BenchRow[] {
  const note = 'source STOP to destination RESUME, by the timestamps QEMU put on those events (one host, one clock)';
  const row = (variant: string, s: DowntimeSummary): BenchRow => ({ suite: 'qemu', case: `${c}: the VM's own downtime, median`, variant, value: s.medianMs, unit: 'ms', note: `${note}; min ${s.minMs.toFixed(1)}, max ${s.maxMs.toFixed(1)}` });
  return [
    row('without', r.guestWithout),
    row(withLabel, r.guestWith),
    { suite: 'qemu', case: `${c}: added to the VM's own downtime (median with − median without)`, value: r.guestAddedMedianMs, unit: 'ms', note: 'QEMU\'s `downtime` ends when the source has sent the last state, while the destination may still be loading it; a hold in pre-switchover runs beside that load: it hides behind it, or, on shared CPUs, slows it' },
  ];
}

/**
 * `carryover bench qemu`: QEMU's own migration downtime without and with carryover's trigger
 * holding the source in pre-switchover, fresh QEMU pairs alternating in one run. The pause
 * handler here does no switch work: the rows measure what the trigger itself adds. The state sync
 * inside the pause is measured by the engine's benchmarks once it drives real switches.
 */
import { benchQemuDowntime } from '../../controller/index.js';
import { QEMU_SKIP_REASON, ownCpus } from '../../controller/testing/qemu-pair.js';
import type { BenchFlags } from '../cli/bench-command.js';
import { cpuPlacement } from './cpu-placement.js';
import { downtimePartRows, guestDowntimeRows } from './downtime-part-rows.js';
import type { BenchRow } from './results.js';

/** Runs the QEMU downtime bench (`--rounds` migrations per mode, default 10); one UNSUPPORTED row without QEMU. */
export async function runQemuBench(flags: BenchFlags = {}): Promise<BenchRow[]> {
  const runs = flags.rounds ?? 10;
  if (QEMU_SKIP_REASON !== undefined) return [{ suite: 'qemu', case: 'QEMU downtime', value: 'UNSUPPORTED', unit: 'ms', note: QEMU_SKIP_REASON }];
  const r = await benchQemuDowntime({ runs, ...(flags.qemuCpus !== undefined ? { qemuCpus: flags.qemuCpus } : {}) });
  const note = `QEMU ${r.qemuVersion}, ${r.memoryMb} MiB, ${r.runsPerMode} migrations per mode, alternating; ${cpuPlacement(flags.qemuCpus, ownCpus() ?? null)}`;
  return [
    { suite: 'qemu', case: 'QEMU downtime, median', variant: 'without trigger', value: r.without.medianMs, unit: 'ms', note: `${note}; min ${r.without.minMs}, max ${r.without.maxMs}` },
    { suite: 'qemu', case: 'QEMU downtime, median', variant: 'with trigger (no-op pause handler)', value: r.with.medianMs, unit: 'ms', note: `min ${r.with.minMs}, max ${r.with.maxMs}` },
    { suite: 'qemu', case: 'added by the trigger (median with − median without)', value: r.addedMedianMs, unit: 'ms' },
    { suite: 'qemu', case: 'hold in pre-switchover, median (event to migrate-continue)', value: r.heldMedianMs, unit: 'ms' },
    ...guestDowntimeRows('QEMU downtime', r, 'with trigger (no-op pause handler)'),
    ...downtimePartRows('QEMU downtime', r.parts, 'with trigger'),
  ];
}

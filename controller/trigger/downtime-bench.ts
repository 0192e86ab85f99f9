/**
 * `carryover bench qemu`, the measuring part: QEMU's own migration downtime for the same disk-less
 * VM migrated on loopback without the trigger (plain migration) and with it (held in
 * `pre-switchover` while a pause handler runs — by default one that does nothing), alternating
 * the two so both see the same machine load.
 */
import { silentLogger, systemClock } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { QmpClient } from '../qmp/index.js';
import { startQemuPair } from '../testing/qemu-pair.js';
import type { QemuPair } from '../testing/qemu-pair.js';
import { QemuTrigger } from './qemu-trigger.js';
import { finalMigrationInfo, setCapabilities } from './qemu-queries.js';
import type { MigrationPhaseHandler } from './phase-handler.js';

/** One measured migration. */
export interface QemuDowntimeSample {
  readonly mode: 'without-trigger' | 'with-trigger';
  /** QEMU's `downtime` (query-migrate), ms: until the source sent the last state. */
  readonly qemuDowntimeMs: number;
  /** The VM's downtime as it sees it: the source's STOP to the destination's RESUME (QEMU's event timestamps), ms. */
  readonly guestDowntimeMs: number | undefined;
  /** With the trigger: the time it held QEMU in pre-switchover (our clock), ms. */
  readonly heldMs: number | undefined;
  /** The same hold by QEMU's event timestamps, ms. */
  readonly heldQemuMs: number | undefined;
  readonly totalTimeMs: number | undefined;
  /** QEMU's downtime split by its own event timestamps (undefined when an event was missing). */
  readonly parts: DowntimeParts | undefined;
}

/**
 * Where QEMU's downtime went, by the timestamps QEMU put on its MIGRATION events: `hold` in
 * `pre-switchover` (0 without the trigger) and `rest`, QEMU's own part (stopping the VM, the final
 * state transfer). With the trigger QEMU also reports `device` as it leaves the hold, which splits
 * the rest into `head` (stop → pause) and `tail` (final transfer → completed); without it there is
 * no such event.
 */
export interface DowntimeParts {
  readonly holdMs: number;
  readonly restMs: number;
  readonly headMs: number | undefined;
  readonly tailMs: number | undefined;
}

/** Splits `downtimeMs` by the QEMU timestamps of the `pre-switchover`, `device` and `completed` statuses. */
export function downtimeParts(downtimeMs: number, statuses: readonly { readonly status: string; readonly qemuAtMs: number }[]): DowntimeParts | undefined {
  const at = (s: string): number | undefined => {
    const t = statuses.find((x) => x.status === s)?.qemuAtMs;
    return t === undefined || Number.isNaN(t) ? undefined : t;
  };
  const pre = at('pre-switchover');
  const device = at('device');
  const completed = at('completed');
  if (completed === undefined) return undefined;
  if (pre === undefined) return { holdMs: 0, restMs: downtimeMs, headMs: undefined, tailMs: undefined };
  if (device === undefined || pre > device || device > completed) return undefined;
  const holdMs = device - pre;
  const tailMs = completed - device;
  return { holdMs, restMs: downtimeMs - holdMs, headMs: downtimeMs - holdMs - tailMs, tailMs };
}

/** Median, min and max of a series, ms. */
export interface DowntimeSummary {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** What the benchmark measured. */
export interface QemuDowntimeBenchResult {
  readonly qemuVersion: string;
  readonly memoryMb: number;
  readonly runsPerMode: number;
  readonly samples: readonly QemuDowntimeSample[];
  readonly without: DowntimeSummary;
  readonly with: DowntimeSummary;
  /** The VM's own downtime (source STOP to destination RESUME) per mode, over the samples that had both events. */
  readonly guestWithout: DowntimeSummary;
  readonly guestWith: DowntimeSummary;
  /** What the trigger added to the VM's own downtime: median with minus median without. */
  readonly guestAddedMedianMs: number;
  /** Median hold in pre-switchover with the trigger (our clock). */
  readonly heldMedianMs: number;
  /** What the trigger added: median downtime with minus median without. */
  readonly addedMedianMs: number;
  /** Medians of the downtime's parts per mode (over the samples that had every event). */
  readonly parts: { readonly without: DowntimeParts | undefined; readonly with: DowntimeParts | undefined };
}

export interface QemuDowntimeBenchOptions {
  /** Migrations per mode (default 5). */
  readonly runs?: number;
  readonly qemuBinary?: string;
  readonly memoryMb?: number;
  /** CPUs the QEMUs run on (a Linux CPU list; see QemuPairOptions.cpus). */
  readonly qemuCpus?: string;
  readonly pauseDeadlineMs?: number;
  /** The pause handler of the with-trigger runs (default: does nothing, says continue). */
  readonly handler?: () => MigrationPhaseHandler;
  /** Runs after the trigger attached and before QEMU's migration starts (with-trigger runs). */
  readonly beforeMigrate?: () => Promise<void>;
  /**
   * QEMU's `max-bandwidth` for both modes (bytes/s; default QEMU's own): a slower memory copy
   * gives the pre-copy of a large state time to finish before QEMU pauses, as a real VM's would.
   */
  readonly maxBandwidth?: number;
  readonly logger?: Logger;
}

/** A pause handler that does nothing: what the trigger alone costs. */
export function noopPhaseHandler(): MigrationPhaseHandler {
  return {
    onPrecopy: () => undefined,
    onPause: async () => ({ decision: 'continue' }),
    onCompleted: () => undefined,
    onFailed: () => undefined,
  };
}

/**
 * Migrates fresh QEMU pairs alternately without and with the trigger and reports QEMU's downtime.
 * @example
 * const r = await benchQemuDowntime({ runs: 5 });
 * console.log(`${r.without.medianMs} ms → ${r.with.medianMs} ms (+${r.addedMedianMs} ms)`);
 */
export async function benchQemuDowntime(options: QemuDowntimeBenchOptions = {}): Promise<QemuDowntimeBenchResult> {
  const runs = options.runs ?? 5;
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`benchQemuDowntime: runs must be an integer >= 1, got ${String(runs)}`);
  const memoryMb = options.memoryMb ?? 64;
  const log = options.logger ?? silentLogger;
  const samples: QemuDowntimeSample[] = [];
  let qemuVersion = '';
  for (let i = 0; i < runs; i++) {
    for (const mode of ['without-trigger', 'with-trigger'] as const) {
      const pair = await startQemuPair({ binary: options.qemuBinary, memoryMb, ...(options.qemuCpus !== undefined ? { cpus: options.qemuCpus } : {}) });
      try {
        const source = await QmpClient.connect({ address: pair.source.qmpAddress, commandTimeoutMs: 60_000 });
        const destination = await QmpClient.connect({ address: pair.destination.qmpAddress, commandTimeoutMs: 60_000 });
        const v = source.greeting.version;
        qemuVersion = `${v.major}.${v.minor}.${v.micro}${v.package ? ` (${v.package})` : ''}`;
        try {
          if (options.maxBandwidth !== undefined) await source.execute('migrate-set-parameters', { 'max-bandwidth': options.maxBandwidth }, { timeoutMs: 60_000 });
          const sample = mode === 'with-trigger' ? await withTrigger(source, destination, pair, options) : await withoutTrigger(source, destination, pair);
          samples.push(sample);
          log.info('qemu downtime sample', { ...sample });
        } finally {
          await source.close();
          await destination.close();
        }
      } finally {
        await pair.stop();
      }
    }
  }
  const pick = (m: QemuDowntimeSample['mode']) => samples.filter((s) => s.mode === m).map((s) => s.qemuDowntimeMs);
  const without = summary(pick('without-trigger'));
  const withT = summary(pick('with-trigger'));
  const guest = (m: QemuDowntimeSample['mode']) => summary(samples.flatMap((s) => (s.mode === m && s.guestDowntimeMs !== undefined ? [s.guestDowntimeMs] : [])));
  const guestWithout = guest('without-trigger');
  const guestWith = guest('with-trigger');
  return {
    qemuVersion,
    memoryMb,
    runsPerMode: runs,
    samples,
    without,
    with: withT,
    guestWithout,
    guestWith,
    guestAddedMedianMs: guestWith.medianMs - guestWithout.medianMs,
    heldMedianMs: median(samples.filter((s) => s.heldMs !== undefined).map((s) => s.heldMs!)),
    addedMedianMs: withT.medianMs - without.medianMs,
    parts: { without: medianParts(samples.filter((s) => s.mode === 'without-trigger')), with: medianParts(samples.filter((s) => s.mode === 'with-trigger')) },
  };
}

/** Per-part medians of the samples' downtime parts (undefined when none had them). */
export function medianParts(samples: readonly QemuDowntimeSample[]): DowntimeParts | undefined {
  const ps = samples.flatMap((s) => (s.parts ? [s.parts] : []));
  if (ps.length === 0) return undefined;
  const some = (xs: (number | undefined)[]): number | undefined => {
    const known = xs.filter((x): x is number => x !== undefined);
    return known.length === 0 ? undefined : median(known);
  };
  return { holdMs: median(ps.map((p) => p.holdMs)), restMs: median(ps.map((p) => p.restMs)), headMs: some(ps.map((p) => p.headMs)), tailMs: some(ps.map((p) => p.tailMs)) };
}

async function withoutTrigger(source: QmpClient, destination: QmpClient, pair: QemuPair): Promise<QemuDowntimeSample> {
  await setCapabilities(source, { events: true }, 60_000);
  const statuses: { status: string; qemuAtMs: number }[] = [];
  let stoppedAt: number | undefined;
  const seen = source.events.subscribe((e) => {
    if (e.event === 'STOP') stoppedAt = e.timestampMs;
    if (e.event === 'MIGRATION' && typeof e.data.status === 'string') statuses.push({ status: e.data.status, qemuAtMs: e.timestampMs });
  });
  const resumed = destination.nextEvent((e) => e.event === 'RESUME', 120_000, 'the destination RESUME event');
  resumed.catch(() => undefined);
  const done = source.nextEvent((e) => e.event === 'MIGRATION' && ['completed', 'failed', 'cancelled'].includes(String(e.data.status)), 120_000, 'the end of the migration');
  await source.execute('migrate', { uri: pair.incomingUri });
  const end = await done.finally(() => seen.unsubscribe());
  const info = await finalMigrationInfo(source, systemClock, 60_000);
  if (end.data.status !== 'completed' || info.downtimeMs === undefined) throw new Error(`plain migration ended ${String(end.data.status)}: ${info.errorDesc ?? 'no downtime reported'}`);
  const resume = await resumed;
  const guestDowntimeMs = stoppedAt === undefined ? undefined : resume.timestampMs - stoppedAt;
  return { mode: 'without-trigger', qemuDowntimeMs: info.downtimeMs, guestDowntimeMs, heldMs: undefined, heldQemuMs: undefined, totalTimeMs: info.totalTimeMs, parts: downtimeParts(info.downtimeMs, statuses) };
}

async function withTrigger(source: QmpClient, destination: QmpClient, pair: QemuPair, options: QemuDowntimeBenchOptions): Promise<QemuDowntimeSample> {
  const trigger = await QemuTrigger.attach({ source, destination, handler: (options.handler ?? noopPhaseHandler)(), pauseDeadlineMs: options.pauseDeadlineMs, commandTimeoutMs: 60_000, destinationTimeoutMs: 60_000 });
  try {
    await options.beforeMigrate?.();
    await trigger.startMigration(pair.incomingUri);
    const r = await trigger.finished;
    if (r.outcome !== 'completed' || r.qemuDowntimeMs === undefined) throw new Error(`migration with the trigger ended ${r.outcome}: ${r.reason?.message ?? 'no downtime reported'}`);
    if (r.destinationStatus !== 'running') throw new Error(`migration with the trigger completed but the destination VM is ${r.destinationStatus ?? 'unknown'}, not running`);
    return { mode: 'with-trigger', qemuDowntimeMs: r.qemuDowntimeMs, guestDowntimeMs: r.guestDowntimeMs, heldMs: r.pause?.heldMs, heldQemuMs: r.pause?.heldQemuMs, totalTimeMs: r.totalTimeMs, parts: downtimeParts(r.qemuDowntimeMs, r.statuses) };
  } finally {
    await trigger.close();
  }
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function summary(xs: readonly number[]): DowntimeSummary {
  return { medianMs: median(xs), minMs: Math.min(...xs), maxMs: Math.max(...xs) };
}

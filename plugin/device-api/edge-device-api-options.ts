/**
 * Options of the edge plugin's device API (createDeviceApi): what a caller may set, the defaults,
 * and the one check at the edge — a bad value is refused before anything talks to the switch.
 */
import { EdgePluginError } from '../errors.js';

/** Options of createDeviceApi. */
export interface EdgeDeviceApiOptions {
  /** The device's name in capabilities and errors (default: the switch address). */
  readonly name?: string;
  /** Pause between delta pulls while pre-copy runs (ms on the plugin's clock). Default 20. */
  readonly deltaIntervalMs?: number;
  /**
   * Where the snapshot finds the VM's slots: 'auto' reads through the slot index once it has been
   * reconciled and scans the group until then; 'index' trusts the index as learned from digests
   * (right when it has listened since the group was empty, e.g. a freshly pushed pipeline). Either
   * way, after a gap (the session not primary, or its stream broken: digests went elsewhere) the
   * snapshot scans first, with a warning naming the gap.
   */
  readonly snapshotSource?: 'auto' | 'index';
  /** Reconcile the slot index in the background from the start (default true); after a gap it is re-scanned either way. */
  readonly reconcile?: boolean;
  /**
   * In the pause, how long the final delta waits for numbered delta digests still on their way
   * before it reads the change log instead (ms on the plugin's clock). Default 2: a digest list
   * leaves the switch within 1 ms of its first change (the lists are configured so), and reading
   * the log and the slots costs several times that.
   */
  readonly finalDigestWaitMs?: number;
  /**
   * When the source reads its tracker and counters in the pause: 'with-freeze' sends one Read right
   * behind the freeze's Write and uses it when it saw the freeze (frozen-read.ts), 'after-freeze'
   * reads once the Write is answered. Default 'with-freeze' where registers are read over
   * P4Runtime; 'after-freeze' always otherwise.
   */
  readonly freezeReads?: 'with-freeze' | 'after-freeze';
  /**
   * In the pause, how many changes the source hands over ahead of the freeze's answer (pauseDelta),
   * at most: what is taken is translated while the freeze is on its way, and work longer than that
   * round trip only delays the answer behind it. The rest waits for the final delta. Default 256;
   * 0 takes nothing ahead.
   */
  readonly takeAheadMaxChanges?: number;
  /**
   * The longest a new-flow digest takes to reach the plugin (ms on the plugin's clock). A snapshot
   * read through the slot index waits until this long after tracking began, so that a flow opened
   * just before is in it; one told of later still is read by the next delta round. Default 400:
   * BMv2 delivers a partial digest list 200–330 ms late whatever timeout it is given (lab, p4/README.md);
   * a target that honours the 1 ms list timeout can take a few milliseconds.
   */
  readonly newFlowDigestDelayMs?: number;
  /**
   * How many activated migrations' records a destination keeps, the newest, for an abort before
   * the commit (nothing tells a destination that the commit came; a record also goes when the VM
   * moves on from the switch). An abort of one no longer kept undoes from the VM's control entry,
   * as after a restart. Default 16: a commit follows its activation within seconds.
   */
  readonly activatedKept?: number;
}

/** Default of `deltaIntervalMs`. */
export const DEFAULT_DELTA_INTERVAL_MS = 20;
/** Default of `finalDigestWaitMs`. */
export const DEFAULT_FINAL_DIGEST_WAIT_MS = 2;
/** Default of `newFlowDigestDelayMs`: BMv2's partial-list delay (200–330 ms) with room. */
export const DEFAULT_NEW_FLOW_DIGEST_DELAY_MS = 400;
/** Default of `activatedKept`. */
export const DEFAULT_ACTIVATED_KEPT = 16;
/** Default of `takeAheadMaxChanges`. */
export const DEFAULT_TAKE_AHEAD_MAX_CHANGES = 256;

/** The options checked, every default filled in. */
export interface ResolvedEdgeDeviceApiOptions {
  readonly name: string;
  readonly deltaIntervalMs: number;
  readonly snapshotSource: 'auto' | 'index';
  readonly reconcile: boolean;
  readonly finalDigestWaitMs: number;
  readonly freezeReads: 'with-freeze' | 'after-freeze';
  readonly takeAheadMaxChanges: number;
  readonly newFlowDigestDelayMs: number;
  readonly activatedKept: number;
}

/**
 * Checks `o` and fills the defaults (`address`: the name when none is given).
 * @throws EdgePluginError BAD_OPTIONS naming the option, the value and what it takes.
 */
export function parseEdgeDeviceApiOptions(o: EdgeDeviceApiOptions, address: string): Readonly<ResolvedEdgeDeviceApiOptions> {
  const name = o.name ?? address;
  const bad = (what: string): never => {
    throw new EdgePluginError('BAD_OPTIONS', `device ${name}: ${what}; omit it for the default`);
  };
  if (typeof name !== 'string' || name === '') bad(`name ${JSON.stringify(name)} is not a non-empty string`);
  const ms = (key: 'deltaIntervalMs' | 'finalDigestWaitMs' | 'newFlowDigestDelayMs', fallback: number, zeroAllowed: boolean): number => {
    const v = o[key] ?? fallback;
    const ok = typeof v === 'number' && Number.isFinite(v) && (zeroAllowed ? v >= 0 : v > 0);
    return ok ? v : bad(`${key} ${String(v)} is not a number of milliseconds ${zeroAllowed ? '≥ 0' : 'above 0'}`);
  };
  const oneOf = <T extends string>(key: 'snapshotSource' | 'freezeReads', allowed: readonly T[], fallback: T): T => {
    const v = o[key] ?? fallback;
    return (allowed as readonly string[]).includes(v) ? (v as T) : bad(`${key} '${String(v)}' is not ${allowed.map((a) => `'${a}'`).join(' or ')}`);
  };
  const reconcile = o.reconcile ?? true;
  if (typeof reconcile !== 'boolean') bad(`reconcile ${String(reconcile)} is not true or false`);
  const takeAhead = o.takeAheadMaxChanges ?? DEFAULT_TAKE_AHEAD_MAX_CHANGES;
  if (!Number.isSafeInteger(takeAhead) || takeAhead < 0) bad(`takeAheadMaxChanges ${String(takeAhead)} is not a whole number of changes ≥ 0`);
  const kept = o.activatedKept ?? DEFAULT_ACTIVATED_KEPT;
  if (!Number.isSafeInteger(kept) || kept < 0) bad(`activatedKept ${String(kept)} is not a whole number of migrations ≥ 0`);
  return Object.freeze({
    name,
    deltaIntervalMs: ms('deltaIntervalMs', DEFAULT_DELTA_INTERVAL_MS, false),
    snapshotSource: oneOf('snapshotSource', ['auto', 'index'] as const, 'auto'),
    reconcile,
    finalDigestWaitMs: ms('finalDigestWaitMs', DEFAULT_FINAL_DIGEST_WAIT_MS, true),
    freezeReads: oneOf('freezeReads', ['with-freeze', 'after-freeze'] as const, 'with-freeze'),
    takeAheadMaxChanges: takeAhead,
    newFlowDigestDelayMs: ms('newFlowDigestDelayMs', DEFAULT_NEW_FLOW_DIGEST_DELAY_MS, true),
    activatedKept: kept,
  });
}

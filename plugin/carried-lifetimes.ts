/**
 * The lifetimes pinholes carried into this switch (pinhole-learner.ts): an entry imported here
 * and not hit since lives no longer than what it had left at its source, though the switch times
 * it from the insert with the full idle timeout. This keeps those deadlines, tells when the next
 * one is due, and caps a re-export at what is left (field walkthrough 18: pinholes idle 42 min
 * against a 10 min timeout while the VM kept moving).
 *
 * @example
 * const lifetimes = new CarriedLifetimes(clock, () => enqueue(enforce));
 * lifetimes.record(key, { match, vmId: 7, atMs: clock.now(), deadlineMs: clock.now() + 20_000 });
 * for (const [key, d] of lifetimes.takeDue(clock.now(), (vm) => frozen.has(vm))) { … }
 */
import type { Clock, TableEntryRead } from 'p4runtime-ts';
import { sinceLastHitNs } from './idle-time.js';
import type { PinholeLearnerInput } from './pinhole-types.js';

/** Tolerance of "not hit since import": BMv2 refreshes an entry's idle time about once a second. */
export const IDLE_SCAN_SLACK_MS = 1_000;

/** One imported entry's carried lifetime. */
export interface CarriedLifetime {
  readonly match: Record<string, bigint>;
  readonly vmId: number;
  /** When it was imported here (ms on the clock): a hit after this makes it an ordinary entry. */
  readonly atMs: number;
  /** When its carried lifetime ends (ms on the clock). */
  readonly deadlineMs: number;
}

/** True when `e` was hit after `sinceMs` (by its idle time as read, `now` being the read's time). */
function hitSince(e: TableEntryRead, report: PinholeLearnerInput['idleTimeReport'], sinceMs: number, now: number): boolean {
  const since = sinceLastHitNs(e, report);
  return since !== undefined && Number(since / 1_000_000n) + IDLE_SCAN_SLACK_MS < now - sinceMs;
}

/** The carried deadlines of one table's imported entries, by key, with a timer at the earliest. */
export class CarriedLifetimes {
  private readonly deadlines = new Map<string, CarriedLifetime>();
  private timer: unknown;
  private stopped = false;

  /** `onDue` runs when the earliest deadline has come (the learner enforces them in its queue). */
  constructor(private readonly clock: Clock, private readonly onDue: () => void) {}

  /** Records an imported entry's lifetime unless one is held (an earlier batch of the same migration). */
  record(key: string, lifetime: CarriedLifetime): void {
    if (!this.deadlines.has(key)) this.deadlines.set(key, lifetime);
  }

  /** Moves a held lifetime's deadline (a newer export); false when none is held for `key`. */
  renew(key: string, deadlineMs: number): boolean {
    const d = this.deadlines.get(key);
    if (!d) return false;
    this.deadlines.set(key, { ...d, deadlineMs });
    return true;
  }

  /** Drops `key`'s lifetime (the entry is gone, or expired by the table's own timeout). */
  forget(key: string): void {
    this.deadlines.delete(key);
  }

  /**
   * What `e` (read now, `switchNs` left by the switch's own count) may carry on: the switch's
   * figure, capped at what its carried lifetime has left unless it was hit since import.
   */
  cap(key: string, e: TableEntryRead, report: PinholeLearnerInput['idleTimeReport'], now: number, switchNs: bigint): bigint {
    const d = this.deadlines.get(key);
    if (!d || hitSince(e, report, d.atMs, now)) return switchNs;
    const carriedNs = BigInt(Math.max(0, Math.round(d.deadlineMs - now))) * 1_000_000n;
    return carriedNs < switchNs ? carriedNs : switchNs;
  }

  /** Removes and returns the lifetimes due by `now`, except those of VMs `held` (frozen or staged). */
  takeDue(now: number, held: (vmId: number) => boolean): [string, CarriedLifetime][] {
    const due = [...this.deadlines.entries()].filter(([, d]) => d.deadlineMs <= now && !held(d.vmId));
    for (const [key] of due) this.deadlines.delete(key);
    return due;
  }

  /** Sets the timer at the earliest deadline (none: no timer). */
  arm(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const next = Math.min(...[...this.deadlines.values()].map((d) => d.deadlineMs));
    if (!Number.isFinite(next)) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.onDue();
    }, Math.max(0, next - this.clock.now()));
  }

  /** Clears the timer for good. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Which sources reported a pull since pre-copy's last round (field walkthrough 6, m4): a round
 * is counted converged only when every source that reports its quiet pulls
 * (DeviceCapabilities.quietReports) has said how much its latest pull found. Without that, a round
 * whose window closed while a source's pull was still reading — the first after a snapshot reads
 * everything changed meanwhile, on a loaded BMv2 longer than the window — looked empty, ended
 * pre-copy, and moved hundreds of changes into the pause. Sources that predate the reports are
 * judged as before, by what arrived.
 *
 * @example
 * const heard = new RoundReports(['edge-1']);
 * heard.note('edge-1');            // any batch or progress from it, a quiet one included
 * await heard.awaitAll(woken, 100, scheduler);
 * const complete = heard.take();   // true: every reporting source was heard this round
 */
import type { SchedulerLike } from 'rxjs';
import { raceTimer } from './race-timer.js';

/** The reporting sources heard from since the last take. */
export class RoundReports {
  private readonly reporting: ReadonlySet<string>;
  private heard = new Set<string>();
  private wake: (() => void) | undefined;

  constructor(reporting: Iterable<string>) {
    this.reporting = new Set(reporting);
  }

  /** Whether `source` reports its quiet pulls (ask its stream for them). */
  reports(source: string): boolean {
    return this.reporting.has(source);
  }

  /** `source` reported a pull (a batch or progress, quiet or not). */
  note(source: string): void {
    if (!this.reporting.has(source)) return;
    this.heard.add(source);
    if (this.wake && this.all()) {
      this.wake();
      this.wake = undefined;
    }
  }

  private all(): boolean {
    for (const s of this.reporting) if (!this.heard.has(s)) return false;
    return true;
  }

  /**
   * Waits, at most `ms` (or until `woken`: the VM paused), for every reporting source to be heard
   * since the last take: a pull still reading when the round's interval ended gets one more
   * interval to report before the round is taken.
   */
  async awaitAll(woken: Promise<void>, ms: number, scheduler: SchedulerLike): Promise<void> {
    if (this.all()) return;
    const heard = new Promise<void>((resolve) => (this.wake = resolve));
    await raceTimer(Promise.race([heard, woken]), ms, scheduler, undefined);
    this.wake = undefined;
  }

  /** Whether every reporting source was heard since the last take; starts the next round's count. */
  take(): boolean {
    const complete = this.all();
    this.heard = new Set();
    return complete;
  }
}

/**
 * The switch's pipeline, watched while the plugin runs. A session that stays primary hears
 * nothing when another client — your controller, in its own role — pushes a pipeline, yet that
 * push cleared every register, table entry and digest configuration. So the cookie is read every
 * interval, and whether a digest the plugin configured is still configured (a push of the same
 * build keeps its cookie). A change is reported: the plugin then checks the pipeline as after a
 * reconnect and rebuilds what it learned from the switch. Timers come from the plugin's clock.
 */
import type { Clock, Logger, TimerHandle } from 'p4runtime-ts';

/** What the watch reads and whom it tells. */
export interface PipelineWatchOptions {
  /** Between reads (ms); 0: never read. */
  readonly intervalMs: number;
  readonly scheduler: Clock;
  readonly logger: Logger;
  /** The cookie known at start (undefined: the first read sets it). */
  readonly seen: string | undefined;
  /** Whether a read is due now (the plugin running, primary, not checking the pipeline already). */
  due(): boolean;
  /** The switch's cookie now, as text, with anything else that tells a push apart (a cleared digest configuration). */
  read(): Promise<string>;
  /** Told once per change seen, after it was logged. */
  changed(was: string, now: string): void;
}

/** A running watch. */
export interface PipelineWatch {
  /** A cookie the plugin itself found (a recheck): the next change is counted from it. */
  saw(cookie: string): void;
  stop(): void;
}

/**
 * Starts reading the pipeline's cookie every `intervalMs`.
 * @example
 * const w = watchPipeline({ intervalMs: 5000, scheduler, logger, seen: '0x1', due: () => true, read: readCookie, changed: () => recheck() });
 * w.stop();
 */
export function watchPipeline(o: PipelineWatchOptions): PipelineWatch {
  let seen = o.seen;
  let timer: TimerHandle | undefined;
  let stopped = false;
  const once = async (): Promise<void> => {
    if (!o.due()) return;
    let now: string;
    try {
      now = await o.read();
    } catch (e) {
      o.logger.debug('pipeline watch: the cookie could not be read; trying again later', { error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const was = seen;
    seen = now;
    if (stopped || was === undefined || was === now || !o.due()) return;
    o.logger.warn('the switch\'s pipeline changed while this session stayed primary: another client pushed one, which cleared every register, table entry and digest configuration; checking it as after a reconnect', { was, now });
    o.changed(was, now);
  };
  const next = (): void => {
    if (stopped || o.intervalMs === 0) return;
    timer = o.scheduler.setTimeout(() => {
      timer = undefined;
      void once().finally(next);
    }, o.intervalMs);
  };
  next();
  return {
    saw: (cookie) => void (seen = cookie),
    stop: () => {
      stopped = true;
      if (timer !== undefined) o.scheduler.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * The VM's traffic in `bench qemu`'s paced setting: its changing flows send a data segment every
 * `everyMs` while QEMU copies memory, one batch at a time (a batch still passing the switch when the
 * next is due is not doubled up), until the pause stops them. Timers through a Clock, so tests run
 * in virtual time.
 */
import type { Clock, TimerHandle } from 'p4runtime-ts';

/** A running changer. */
export interface FlowChanger {
  /** Batches started so far. */
  readonly batches: number;
  /** No batch starts after this; resolves once the batch in flight (if any) has passed. */
  stop(): Promise<void>;
}

/**
 * Starts `change` now and again `everyMs` after each batch started (or when it ends, if later);
 * a batch's failure is reported through `onError` and does not stop the next.
 * @example
 * const changer = keepChanging(() => worker.change(flows), 20, systemClock, (e) => log(String(e)));
 * // … QEMU pauses the VM:
 * await changer.stop();
 */
export function keepChanging(change: () => Promise<unknown>, everyMs: number, clock: Clock, onError: (e: unknown) => void): FlowChanger {
  if (!(everyMs > 0)) throw new RangeError(`keepChanging: everyMs must be > 0, got ${everyMs}`);
  let stopped = false;
  let batches = 0;
  let timer: TimerHandle | undefined;
  let inFlight: Promise<void> | undefined;
  const run = (): void => {
    timer = undefined;
    if (stopped) return;
    batches++;
    const due = clock.now() + everyMs;
    inFlight = change().then(
      () => undefined,
      (e: unknown) => onError(e),
    );
    void inFlight.then(() => {
      inFlight = undefined;
      if (!stopped) timer = clock.setTimeout(run, Math.max(0, due - clock.now()));
    });
  };
  run();
  return {
    get batches() {
      return batches;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}

/**
 * Every write hw-test makes to the target is recorded here with the write that reverts it
 * (delete what was inserted, restore what was modified, clear what was written). At the end the
 * steps run newest first, each on its own: one failed revert does not stop the others, and every
 * failure is reported. A check that reverts its own writes releases their steps.
 */

/** A recorded write: revert it now, or release it when already reverted. */
export interface UndoHandle {
  /** Runs the revert now (once); throws what the revert threw. */
  revert(): Promise<void>;
  /** Marks the write as reverted by other means. */
  release(): void;
}

/** What reverting everything did. */
export interface UndoOutcome {
  /** Writes recorded over the run. */
  readonly recorded: number;
  /** Steps reverted at the end (the rest were reverted by their checks). */
  readonly reverted: number;
  readonly failures: readonly { readonly what: string; readonly error: string }[];
  /** Things that could not be restored exactly, and why. */
  readonly notes: readonly string[];
}

interface Step {
  readonly what: string;
  readonly run: () => Promise<void>;
  done: boolean;
}

/** The log of writes to revert. */
export class UndoLog {
  private readonly steps: Step[] = [];
  private readonly notes: string[] = [];
  private recorded = 0;

  /** Writes recorded so far (reverted or not). */
  get size(): number {
    return this.recorded;
  }

  /** Records a write and how to revert it. */
  add(what: string, run: () => Promise<void>): UndoHandle {
    const step: Step = { what, run, done: false };
    this.steps.push(step);
    this.recorded++;
    return {
      revert: async () => {
        if (step.done) return;
        step.done = true;
        await run();
      },
      release: () => {
        step.done = true;
      },
    };
  }

  /** Notes something that cannot be restored exactly (reported with the undo check). */
  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Steps not yet reverted. */
  pending(): number {
    return this.steps.filter((s) => !s.done).length;
  }

  /** Reverts every pending step, newest first. */
  async revertAll(): Promise<UndoOutcome> {
    let reverted = 0;
    const failures: { what: string; error: string }[] = [];
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i] as Step;
      if (s.done) continue;
      s.done = true;
      try {
        await s.run();
        reverted++;
      } catch (e) {
        failures.push({ what: s.what, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return { recorded: this.recorded, reverted, failures, notes: [...this.notes] };
  }
}

/**
 * Running one check: time it, turn its outcome (or whatever it throws) into a CheckResult with
 * the target's code and message, and tell the progress listener. A check that throws is a FAIL
 * carrying the target's answer — a check never takes the run down with it.
 */
import type { HwTestProgress } from './options.js';
import type { CheckResult, CheckStatus } from './report/types.js';
import { describeUpdates, targetStatus } from './target-status.js';

/** What a check function returns. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  /** The target's gRPC code (default `OK` for PASS, `-` otherwise). */
  readonly code?: string;
  readonly message?: string;
  readonly detail: string;
  readonly diff?: readonly string[];
}

/** The target's answer as a (code, message) pair, for outcomes. */
export interface TargetAnswer {
  readonly code: string;
  readonly message: string;
}

/** A PASS. */
export function pass(detail: string, answer: TargetAnswer = { code: 'OK', message: '' }): CheckOutcome {
  return { status: 'PASS', code: answer.code, message: answer.message, detail };
}

/** A FAIL, optionally with the target's answer and differences. */
export function fail(detail: string, answer: TargetAnswer = { code: '-', message: '' }, diff: readonly string[] = []): CheckOutcome {
  return { status: 'FAIL', code: answer.code, message: answer.message, detail, diff };
}

/** An UNSUPPORTED, with the target's answer that showed the feature missing. */
export function unsupported(detail: string, answer: TargetAnswer = { code: '-', message: '' }): CheckOutcome {
  return { status: 'UNSUPPORTED', code: answer.code, message: answer.message, detail };
}

/** The target's answer in an error, as outcomes want it. */
export function answerOf(e: unknown): TargetAnswer {
  const s = targetStatus(e);
  return { code: s.code, message: s.message };
}

/** Runs and collects the checks of one group. */
export class GroupRecorder {
  private readonly checks: CheckResult[] = [];

  constructor(
    readonly group: string,
    private readonly onProgress: (e: HwTestProgress) => void,
  ) {}

  /** Runs one check; never throws. */
  async check(id: string, name: string, fn: () => Promise<CheckOutcome>): Promise<CheckResult> {
    const t0 = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = await fn();
    } catch (e) {
      const s = targetStatus(e);
      const updates = s.updates.length > 1 ? ` (updates: ${describeUpdates(s.updates)})` : '';
      outcome = fail(`${s.fromTarget ? 'the target answered' : 'error'}: ${s.code}: ${s.message}${updates}`, { code: s.fromTarget ? s.code : '-', message: s.fromTarget ? s.message : '' });
    }
    return this.add(id, name, outcome, performance.now() - t0);
  }

  /** Records an outcome decided without running anything (e.g. a prerequisite failed). */
  record(id: string, name: string, outcome: CheckOutcome, durationMs = 0): CheckResult {
    return this.add(id, name, outcome, durationMs);
  }

  private add(id: string, name: string, o: CheckOutcome, durationMs: number): CheckResult {
    const r: CheckResult = Object.freeze({
      group: this.group,
      id,
      name,
      status: o.status,
      code: o.code ?? (o.status === 'PASS' ? 'OK' : '-'),
      message: o.message ?? '',
      detail: o.detail,
      durationMs,
      diff: Object.freeze([...(o.diff ?? [])]),
    });
    this.checks.push(r);
    this.onProgress({ kind: 'check', group: this.group, id, name, status: r.status, durationMs });
    return r;
  }

  /** The checks recorded so far. */
  results(): readonly CheckResult[] {
    return [...this.checks];
  }
}

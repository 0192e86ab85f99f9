/**
 * The shape of a hw-test report: groups of checks, each PASS / FAIL / UNSUPPORTED with the
 * target's exact gRPC code and message, a duration, and — for the comparing groups — readable
 * differences. Every output format (Markdown, JUnit XML, JSON) is rendered from this one object.
 */

/** A check's outcome. UNSUPPORTED: the target lacks the feature, as its profile predicts (or the check needs input it was not given). */
export type CheckStatus = 'PASS' | 'FAIL' | 'UNSUPPORTED';

/** One check. */
export interface CheckResult {
  /** Group id, e.g. `conformance`. */
  readonly group: string;
  /** Stable id inside the group, e.g. `register-entry-read`. */
  readonly id: string;
  /** What it checks, for people. */
  readonly name: string;
  readonly status: CheckStatus;
  /** The target's gRPC code for the answer the check turned on (`OK` when it answered normally, `-` when no RPC was involved). */
  readonly code: string;
  /** The target's message, verbatim ('' when none). */
  readonly message: string;
  /** What was observed, and why the status. */
  readonly detail: string;
  readonly durationMs: number;
  /** Readable differences (first ones only), for FAILs of the comparing checks. */
  readonly diff: readonly string[];
}

/** One group of checks. */
export interface GroupResult {
  readonly id: string;
  readonly title: string;
  readonly checks: readonly CheckResult[];
  readonly durationMs: number;
}

/** Counts over every check. */
export interface ReportSummary {
  readonly passed: number;
  readonly failed: number;
  readonly unsupported: number;
  readonly total: number;
}

/** A whole run. */
export interface HwTestReport {
  readonly target: string;
  readonly deviceId: string;
  /** The second switch of the migration group (--peer), when there was one. */
  readonly peer?: { readonly address: string; readonly deviceId: string };
  readonly profile: string;
  readonly p4info: string;
  readonly program: string;
  /** ISO time the run started. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** What the run did around the checks: pipeline pushed or found, backends, undo. */
  readonly notes: readonly string[];
  readonly groups: readonly GroupResult[];
  readonly summary: ReportSummary;
}

/** Counts the statuses of every check of the groups. */
export function summarize(groups: readonly GroupResult[]): ReportSummary {
  let passed = 0;
  let failed = 0;
  let unsupported = 0;
  for (const g of groups) {
    for (const c of g.checks) {
      if (c.status === 'PASS') passed++;
      else if (c.status === 'FAIL') failed++;
      else unsupported++;
    }
  }
  return { passed, failed, unsupported, total: passed + failed + unsupported };
}

/** The summary line every format shows: `N passed, N failed, N unsupported`. */
export function summaryLine(s: ReportSummary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.unsupported} unsupported`;
}

/** Every check of a report keyed `group/id` → status (what tests assert against). */
export function outcomes(report: HwTestReport): Record<string, CheckStatus> {
  const out: Record<string, CheckStatus> = {};
  for (const g of report.groups) for (const c of g.checks) out[`${g.id}/${c.id}`] = c.status;
  return out;
}

/** The report as JSON (`--json`): the HwTestReport object itself, plus the summary line. */
import { summaryLine } from './types.js';
import type { HwTestReport } from './types.js';

/** Renders the report as pretty-printed JSON. */
export function renderJson(r: HwTestReport): string {
  return `${JSON.stringify({ ...r, summaryLine: summaryLine(r.summary) }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}

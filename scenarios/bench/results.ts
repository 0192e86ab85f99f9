/**
 * Benchmark results: rows measured in one run, rendered as a Markdown table and JSON. Ratios are
 * computed between rows of the same run only — this machine is shared and noisy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchRow {
  readonly suite: string;
  readonly case: string;
  /** Target profile or variant, when the suite has several. */
  readonly variant?: string;
  /** UNSUPPORTED: the target cannot do it; NOT RUN: this run did not measure it (the note says why). */
  readonly value: number | 'UNSUPPORTED' | 'NOT RUN';
  readonly unit: string;
  readonly note?: string;
}

/** Formats rows as a Markdown table. */
export function renderMarkdown(title: string, rows: readonly BenchRow[]): string {
  const head = '| suite | case | variant | value | unit | note |\n|---|---|---|---:|---|---|';
  const body = rows.map((r) => {
    const v = typeof r.value === 'number' ? formatNumber(r.value) : r.value;
    return `| ${r.suite} | ${r.case} | ${r.variant ?? ''} | ${v} | ${r.unit} | ${r.note ?? ''} |`;
  });
  return `# ${title}\n\n${head}\n${body.join('\n')}\n`;
}

/** Writes the table and the JSON beside it; returns the Markdown path. */
export function writeResults(dir: string, title: string, rows: readonly BenchRow[]): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const md = join(dir, `bench-${stamp}.md`);
  writeFileSync(md, renderMarkdown(title, rows));
  writeFileSync(join(dir, `bench-${stamp}.json`), `${JSON.stringify(rows, null, 2)}\n`);
  return md;
}

/** Rounds to three significant figures for display. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

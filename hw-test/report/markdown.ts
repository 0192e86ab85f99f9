/**
 * The human-readable report: a header naming target and pipeline, one table per group (check,
 * status, the target's code and message, duration), the summary line, then the differences of
 * every failed comparison and the notes.
 */
import { summaryLine } from './types.js';
import type { CheckResult, HwTestReport } from './types.js';

/** Escapes text for a Markdown table cell (pipes, newlines). */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}

function answer(c: CheckResult): string {
  if (c.code === '-' && c.message === '') return '—';
  return c.message === '' ? `\`${c.code}\`` : `\`${c.code}\` ${c.message}`;
}

/** Renders the report as Markdown. */
export function renderMarkdown(r: HwTestReport): string {
  const out: string[] = [];
  const peer = r.peer ? ` with peer ${r.peer.address} (device ${r.peer.deviceId})` : '';
  out.push(`# carryover hw-test: ${r.target} (device ${r.deviceId}, profile ${r.profile})${peer}`, '');
  out.push(`Pipeline \`${r.program || '(unnamed)'}\` from \`${r.p4info}\`; started ${r.startedAt}; took ${ms(r.durationMs)}.`, '');
  out.push(`**${summaryLine(r.summary)}**`, '');
  for (const g of r.groups) {
    out.push(`## ${g.title}`, '');
    out.push('| check | status | target answer | detail | time |', '|---|---|---|---|---|');
    for (const c of g.checks) out.push(`| ${cell(c.name)} | ${c.status} | ${cell(answer(c))} | ${cell(c.detail)} | ${ms(c.durationMs)} |`);
    out.push('');
  }
  const withDiff = r.groups.flatMap((g) => g.checks).filter((c) => c.diff.length > 0);
  if (withDiff.length > 0) {
    out.push('## Differences', '');
    for (const c of withDiff) {
      out.push(`### ${c.group} / ${c.name}`, '', '```', ...c.diff, '```', '');
    }
  }
  if (r.notes.length > 0) {
    out.push('## Notes', '');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  out.push(summaryLine(r.summary), '');
  return out.join('\n');
}

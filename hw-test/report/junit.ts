/**
 * The report as JUnit XML, for CI systems: one <testsuite> per group, one <testcase> per check;
 * UNSUPPORTED becomes <skipped> with the reason, FAIL becomes <failure> carrying the target's code
 * and message (and the differences in the body).
 */
import type { CheckResult, HwTestReport } from './types.js';

/** Escapes text for XML content and attribute values; drops characters XML 1.0 cannot carry. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Escapes an attribute value; line breaks and tabs as character references, which XML keeps (raw ones become spaces). */
export function xmlAttr(text: string): string {
  return xmlEscape(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function reason(c: CheckResult): string {
  const answer = c.code === '-' ? '' : c.message === '' ? `${c.code}: ` : `${c.code}: ${c.message} — `;
  return `${answer}${c.detail}`;
}

function testcase(c: CheckResult): string {
  const head = `    <testcase classname="hw-test.${xmlAttr(c.group)}" name="${xmlAttr(c.name)}" time="${seconds(c.durationMs)}"`;
  if (c.status === 'PASS') return `${head}/>`;
  if (c.status === 'UNSUPPORTED') return `${head}>\n      <skipped message="${xmlAttr(reason(c))}"/>\n    </testcase>`;
  const body = [c.detail, ...c.diff].join('\n');
  return `${head}>\n      <failure message="${xmlAttr(reason(c))}" type="${xmlAttr(c.code)}">${xmlEscape(body)}</failure>\n    </testcase>`;
}

/** Renders the report as JUnit XML. */
export function renderJunit(r: HwTestReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const s = r.summary;
  out.push(`<testsuites name="carryover hw-test ${xmlAttr(r.target)}${r.peer ? ` with peer ${xmlAttr(r.peer.address)}` : ''} (${xmlAttr(r.profile)})" tests="${s.total}" failures="${s.failed}" skipped="${s.unsupported}" errors="0" time="${seconds(r.durationMs)}">`);
  for (const g of r.groups) {
    const failures = g.checks.filter((c) => c.status === 'FAIL').length;
    const skipped = g.checks.filter((c) => c.status === 'UNSUPPORTED').length;
    out.push(`  <testsuite name="${xmlAttr(g.title)}" tests="${g.checks.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${seconds(g.durationMs)}" timestamp="${xmlAttr(r.startedAt)}">`);
    for (const c of g.checks) out.push(testcase(c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

import { describe, expect, it } from 'vitest';
import { parseXml } from '../testing/xml.js';
import type { XmlElement } from '../testing/xml.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { summarize, summaryLine } from './types.js';
import type { CheckResult, GroupResult, HwTestReport } from './types.js';

function c(group: string, id: string, status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult {
  return { group, id, name: id, status, code: status === 'PASS' ? 'OK' : '-', message: '', detail: `${id} detail`, durationMs: 12, diff: [], ...extra };
}

const groups: GroupResult[] = [
  {
    id: 'conformance',
    title: '1. P4Runtime conformance',
    durationMs: 40,
    checks: [
      c('conformance', 'capabilities', 'PASS'),
      c('conformance', 'register-entry-read', 'UNSUPPORTED', { code: 'UNIMPLEMENTED', message: 'Register reads are not supported yet', detail: 'not served | by BMv2' }),
      c('conformance', 'odd <name> & "quotes"', 'FAIL', { code: 'INVALID_ARGUMENT', message: 'bad <thing> & more', detail: 'line one\nline two\u0001', diff: ['slot 3: model a; target b', '  ct_state.state: model ESTABLISHED (3), target NONE (0)'] }),
    ],
  },
  { id: 'cleanup', title: '6. Cleanup', durationMs: 5, checks: [c('cleanup', 'undo', 'PASS', { code: '-' })] },
];

const report: HwTestReport = {
  target: '127.0.0.1:9559',
  deviceId: '0',
  profile: 'bmv2',
  p4info: 'stateful_edge.p4info.txtpb',
  program: 'stateful_edge',
  startedAt: '2026-11-25T00:00:00.000Z',
  durationMs: 1234,
  notes: ['pushed the pipeline'],
  groups,
  summary: summarize(groups),
};

const kids = (e: XmlElement, name: string): XmlElement[] => e.children.filter((x) => x.name === name);

describe('hw-test report — summary', () => {
  it('counts statuses and renders the summary line', () => {
    expect(report.summary).toEqual({ passed: 2, failed: 1, unsupported: 1, total: 4 });
    expect(summaryLine(report.summary)).toBe('2 passed, 1 failed, 1 unsupported');
  });
});

describe('hw-test report — JUnit XML', () => {
  const root = parseXml(renderJunit(report));
  it('is well-formed with the right counts per run and per group', () => {
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '4', failures: '1', skipped: '1', errors: '0', time: '1.234' });
    const suites = kids(root, 'testsuite');
    expect(suites.map((s) => [s.attrs.name, s.attrs.tests, s.attrs.failures, s.attrs.skipped])).toEqual([
      ['1. P4Runtime conformance', '3', '1', '1'],
      ['6. Cleanup', '1', '0', '0'],
    ]);
  });

  it('turns UNSUPPORTED into <skipped> with the reason, FAIL into <failure> with code, message and diff', () => {
    const cases = kids(kids(root, 'testsuite')[0] as XmlElement, 'testcase');
    expect(cases.map((x) => x.attrs.name)).toEqual(['capabilities', 'register-entry-read', 'odd <name> & "quotes"']);
    expect(cases[0]?.children).toEqual([]);
    expect(kids(cases[1] as XmlElement, 'skipped')[0]?.attrs.message).toBe('UNIMPLEMENTED: Register reads are not supported yet — not served | by BMv2');
    const f = kids(cases[2] as XmlElement, 'failure')[0];
    expect(f?.attrs).toMatchObject({ type: 'INVALID_ARGUMENT', message: 'INVALID_ARGUMENT: bad <thing> & more — line one\nline two' });
    expect(f?.text).toBe('line one\nline two\nslot 3: model a; target b\n  ct_state.state: model ESTABLISHED (3), target NONE (0)');
    expect(cases[2]?.attrs.classname).toBe('hw-test.conformance');
  });
});

describe('hw-test report — Markdown and JSON', () => {
  it('has one table per group, the target answer, the summary, the differences and the notes', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('# carryover hw-test: 127.0.0.1:9559 (device 0, profile bmv2)');
    expect(md).toContain('**2 passed, 1 failed, 1 unsupported**');
    expect(md).toContain('| register-entry-read | UNSUPPORTED | `UNIMPLEMENTED` Register reads are not supported yet | not served \\| by BMv2 | 12 ms |');
    expect(md).toContain('| capabilities | PASS | `OK` | capabilities detail | 12 ms |');
    expect(md).toContain('### conformance / odd <name> & "quotes"\n\n```\nslot 3: model a; target b\n  ct_state.state: model ESTABLISHED (3), target NONE (0)\n```');
    expect(md).toContain('## Notes\n\n- pushed the pipeline');
    expect(md.trimEnd().endsWith('2 passed, 1 failed, 1 unsupported')).toBe(true);
  });

  it('JSON is the report object plus the summary line', () => {
    const j = JSON.parse(renderJson(report)) as HwTestReport & { summaryLine: string };
    expect(j.summaryLine).toBe('2 passed, 1 failed, 1 unsupported');
    expect(j.groups[0]?.checks[1]).toMatchObject({ status: 'UNSUPPORTED', code: 'UNIMPLEMENTED', message: 'Register reads are not supported yet' });
  });
});

describe('hw-test report — the test XML reader rejects what is not XML', () => {
  it.each(['<a><b></a>', '<a x="1" x="2"/>', '<a>&nope;</a>', '<a>1 & 2</a>', '<a/><b/>', '<a x=1/>'])('%s', (doc) => {
    expect(() => parseXml(doc)).toThrow(/^xml: /);
  });
});

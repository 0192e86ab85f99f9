import { describe, expect, it } from 'vitest';
import { IdleTimeoutScanner } from './idle-timeout-scanner.js';
import { VirtualScheduler } from '../clock.js';
import { applyUpdate } from '../pipeline/entity-writer.js';
import { l2EchoContexts } from '../testing/contexts.js';
import { l2 } from '../testing/fixture.js';

function setup(rule: 'spec' | 'whole-scans', intervalMs: number) {
  const clock = new VirtualScheduler();
  const c = l2EchoContexts(rule === 'spec' ? 'full' : 'bmv2');
  const reports: { at: number; keys: bigint[] }[] = [];
  const scanner = new IdleTimeoutScanner({
    scheduler: clock,
    intervalMs,
    rule,
    state: () => c.state,
    notify: (_t, entries) => reports.push({ at: clock.now(), keys: entries.map((e) => (e.match[0]?.kind === 'EXACT' ? e.match[0].value : -1n)) }),
  });
  scanner.start();
  const insert = (dst: bigint, ttlMs: number): void => {
    applyUpdate(c.write(clock.now()), l2.insert(l2.macFwd(dst, 'drop', { idleTimeoutNs: ttlMs * 1_000_000 })));
  };
  return { clock, c, reports, scanner, insert };
}

const firstReport = (reports: { at: number; keys: bigint[] }[], key: bigint): number | undefined => reports.find((r) => r.keys.includes(key))?.at;

describe('idle timeout scanner — bmv2 sweep (lab timings)', () => {
  it('idle timeout scanner — 300 ms, 1 s and 2.5 s entries are first reported ≈1.09 s, 2.09 s and 3.09 s after insertion', () => {
    const t = setup('whole-scans', 1000);
    t.clock.advance(910);
    t.insert(1n, 300);
    t.insert(2n, 1000);
    t.insert(3n, 2500);
    t.clock.advance(4000);
    expect(firstReport(t.reports, 1n)! - 910).toBe(1090);
    expect(firstReport(t.reports, 2n)! - 910).toBe(2090);
    expect(firstReport(t.reports, 3n)! - 910).toBe(3090);
  });

  it('idle timeout scanner — an idle entry is reported again and again until deleted (1 s entry every 2 s)', () => {
    const t = setup('whole-scans', 1000);
    t.clock.advance(910);
    t.insert(2n, 1000);
    t.clock.advance(6100);
    expect(t.reports.filter((r) => r.keys.includes(2n)).map((r) => r.at)).toEqual([3000, 5000, 7000]);
    applyUpdate(t.c.write(t.clock.now()), l2.remove(l2.macFwd(2n, 'drop')));
    t.clock.advance(5000);
    expect(t.reports.filter((r) => r.keys.includes(2n))).toHaveLength(3);
  });

  it('idle timeout scanner — a hit restarts the timer', () => {
    const t = setup('whole-scans', 1000);
    t.insert(1n, 300);
    t.clock.advance(1500);
    expect(t.reports).toHaveLength(1);
    const e = [...t.c.state.table(l2.ids.tables.mac_fwd).entries()][0]!;
    t.clock.advance(400);
    e.lastHitMs = t.clock.now();
    e.idleSinceMs = e.lastHitMs;
    t.clock.advance(200);
    expect(t.reports).toHaveLength(1);
  });
});

describe('idle timeout scanner — spec rule', () => {
  it('idle timeout scanner — reported once elapsed >= TTL, coalesced per table, entries without TTL never', () => {
    const t = setup('spec', 100);
    t.insert(1n, 300);
    t.insert(2n, 300);
    t.insert(3n, 0);
    t.clock.advance(299);
    expect(t.reports).toHaveLength(0);
    t.clock.advance(1);
    expect(t.reports).toEqual([{ at: 300, keys: [1n, 2n] }]);
    t.clock.advance(300);
    expect(t.reports.map((r) => r.at)).toEqual([300, 600]);
    t.scanner.stop();
    t.clock.advance(10_000);
    expect(t.reports).toHaveLength(2);
  });
});

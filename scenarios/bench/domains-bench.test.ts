import { describe, expect, it } from 'vitest';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { runDomainsBench } from './domains-bench.js';

describe.skipIf(!opensslAvailable())('bench domains (needs openssl)', () => {
  it('bench domains — every migration commits, one federation call crosses inside each pause, rows for each delay and the one-domain baseline', async () => {
    const rows = await runDomainsBench({ rounds: 1 }, { delaysMs: [0, 10], runs: 1, flows: 20 });
    expect(rows.map((r) => r.variant)).toEqual(['one domain', 'two domains, 0 ms one way', 'two domains, 10 ms one way', 'two domains, 0 ms one way', 'two domains, 0 ms one way', 'two domains, 10 ms one way', 'two domains, 10 ms one way', 'one domain', 'two domains, 0 ms one way', 'two domains, 10 ms one way']);
    for (const r of rows.slice(1, 3)) expect(r.note).toMatch(/federation calls inside the pause: 1$/);
    for (const r of rows) expect(Number.isFinite(r.value)).toBe(true);
  }, 240_000);
});

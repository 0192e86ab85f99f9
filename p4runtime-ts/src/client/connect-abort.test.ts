import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { P4Switch } from './p4-switch.js';

describe('P4Switch.connect — abandoned by its caller', () => {
  it('connect — a signal aborted while the target says nothing ends the connect with CANCELLED, before its timeout', async () => {
    // A target that accepts TCP and never answers: the connect would wait out connectTimeoutMs.
    const held: Socket[] = [];
    const server = createServer((s) => held.push(s.on('error', () => undefined)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    const abort = new AbortController();
    try {
      const connecting = P4Switch.connect({ address: `127.0.0.1:${port}`, deviceId: 1, connectTimeoutMs: 60_000 }, { signal: abort.signal });
      setTimeout(() => abort.abort(), 200);
      const outcome = await Promise.race([connecting.then(() => 'connected', (e: unknown) => e), new Promise((r) => setTimeout(() => r('still connecting'), 10_000).unref())]);
      expect(outcome).toBeInstanceOf(P4RuntimeError);
      expect((outcome as P4RuntimeError).code).toBe('CANCELLED');
      expect((outcome as P4RuntimeError).message).toMatch(/cancelled by the caller before 127\.0\.0\.1:\d+ answered/);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    }
  }, 30_000);
});

import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy } from './delay-proxy.js';

/** An echo server that also reports the SHA-256 of everything it received once the client half-closes. */
async function echo(): Promise<Server> {
  const s = createServer({ allowHalfOpen: true }, (c) => {
    const h = createHash('sha256');
    c.on('data', (d: Buffer) => {
      h.update(d);
      c.write(d);
    });
    c.on('end', () => c.end(`\nSHA:${h.digest('hex')}`));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}

/** Sends `payload` in small writes through `address`, half-closes, returns everything that came back. */
function roundTrip(address: string, payload: Buffer): Promise<Buffer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const c = connect({ host, port, allowHalfOpen: true });
    const got: Buffer[] = [];
    c.on('data', (d: Buffer) => got.push(d));
    c.on('end', () => resolve(Buffer.concat(got)));
    c.on('error', reject);
    for (let i = 0; i < payload.length; i += 1000) c.write(payload.subarray(i, i + 1000));
    c.end();
  });
}

describe('delay proxy — a WAN hop on loopback', () => {
  let server: Server;
  beforeAll(async () => {
    server = await echo();
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([0, 10])('delay proxy — %i ms each way: every byte arrives, in order, both ways, and the half-close passes', async (delayMs) => {
    const proxy = await startDelayProxy({ target: `127.0.0.1:${(server.address() as AddressInfo).port}`, delayMs, highWaterBytes: 64 * 1024 });
    try {
      const payload = randomBytes(300_000);
      const back = await roundTrip(proxy.address, payload);
      const sha = createHash('sha256').update(payload).digest('hex');
      expect(back.subarray(0, payload.length).equals(payload)).toBe(true);
      expect(back.subarray(payload.length).toString()).toBe(`\nSHA:${sha}`);
      expect(proxy.stats()).toMatchObject({ connections: 1 });
      expect(proxy.stats().bytes).toBe(2 * payload.length + `\nSHA:${sha}`.length);
    } finally {
      await proxy.close();
    }
  });

  it('delay proxy — a negative delay is refused', async () => {
    await expect(startDelayProxy({ target: '127.0.0.1:1', delayMs: -1 })).rejects.toThrow(/delayMs: expected a non-negative number/);
  });
});

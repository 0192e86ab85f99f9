import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { VirtualScheduler } from '../clock.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

describe('faults — injected from tests', () => {
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('faults — failNext fails exactly the next N calls of that RPC with the chosen code', async () => {
    f = await startFixture({ profile: 'full' });
    f.sw.faults.failNext('Write', { code: status.UNAVAILABLE, count: 2, message: 'link flap' });
    const a = await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    const b = await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    expect([a.code, a.details, b.code]).toEqual([status.UNAVAILABLE, 'link flap', status.UNAVAILABLE]);
    expect((await f.client.capabilities()).outcome.code).toBe(status.OK);
    expect((await f.write([l2.insert(l2.macFwd(1n, 'drop'))])).code).toBe(status.OK);
    expect(f.sw.faults.injected.failed).toBe(2);
  });

  it('faults — "*" targets any RPC; a failed StreamChannel ends before any message', async () => {
    f = await startFixture({ profile: 'bmv2' });
    f.sw.faults.failNext('*', { code: status.RESOURCE_EXHAUSTED });
    expect((await f.client.read({ deviceId: 1, entities: [{ counterEntry: {} }] })).outcome.code).toBe(status.RESOURCE_EXHAUSTED);
    f.sw.faults.failNext('StreamChannel', { code: status.UNAVAILABLE });
    const s = f.client.stream();
    expect((await s.ended()).code).toBe(status.UNAVAILABLE);
    expect(s.received).toHaveLength(0);
  });

  it('faults — delayNext holds a call for the given (virtual) time', async () => {
    const clock = new VirtualScheduler();
    f = await startFixture({ profile: 'full', scheduler: clock });
    f.sw.faults.delayNext('Read', { delayMs: 5000 });
    let done = false;
    const p = f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: 0 } }] }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    clock.advance(5000);
    expect((await p).outcome.code).toBe(status.OK);
  });

  it('faults — closeAllStreams ends every stream with UNAVAILABLE; clients can reconnect', async () => {
    f = await startFixture({ profile: 'full' });
    expect(f.sw.faults.closeAllStreams()).toBe(1);
    expect((await f.stream.ended()).code).toBe(status.UNAVAILABLE);
    const again = f.client.stream();
    again.arbitrate({ deviceId: 1, electionId: 10n });
    expect((await again.nextArbitration()).status?.code).toBe(status.OK);
    again.cancel();
  });

  it('faults — restart loses the pipeline, forwarding state and arbitration; downForMs answers UNAVAILABLE meanwhile', async () => {
    const clock = new VirtualScheduler();
    f = await startFixture({ profile: 'full', scheduler: clock });
    await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    await f.sw.faults.restart({ downForMs: 1000 });
    expect((await f.stream.ended()).code).toBe(status.UNAVAILABLE);
    expect((await f.client.capabilities()).outcome.code).toBe(status.UNAVAILABLE);
    clock.advance(1000);
    const g = await f.client.getPipeline({ deviceId: 1 });
    expect(g.response?.config).toBeNull();
    expect(f.sw.state.pipeline()).toBeNull();
    // The highest election id seen is forgotten: a lower id than before becomes primary.
    const s = f.client.stream();
    s.arbitrate({ deviceId: 1, electionId: 2n });
    expect((await s.nextArbitration()).status?.code).toBe(status.OK);
    s.cancel();
  });

  it('faults — bad fault requests are rejected with a message naming the fix', () => {
    return startFixture({ profile: 'full', push: false }).then((fx) => {
      f = fx;
      expect(() => fx.sw.faults.failNext('Wirte' as never, { code: 14 })).toThrow(/'Wirte' is not an RPC; use one of Write, Read/);
      expect(() => fx.sw.faults.failNext('Write', { code: 0 })).toThrow(/non-OK gRPC status/);
      expect(() => fx.sw.faults.delayNext('Write', { delayMs: -1 })).toThrow(/>= 0/);
    });
  });
});

import { firstValueFrom, filter, toArray, take } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { ArbitrationSession } from './arbitration.js';
import type { ArbitrationState } from './arbitration.js';
import { parseP4SwitchOptions } from './options.js';
import type { P4SwitchOptions } from './options.js';
import { FakeP4RuntimeServer } from './testing/fake-p4rt-server.js';
import { GrpcTransport } from './transport.js';
import type { P4RuntimeTransport, StreamChannelHandle, StreamHandlers } from './transport.js';
import { ManualClock } from './manual-clock.js';
import { p4, fromUint128, toLong, toUint128 } from '../proto/index.js';

describe('arbitration', () => {
  let server: FakeP4RuntimeServer;
  const sessions: ArbitrationSession[] = [];
  const transports: GrpcTransport[] = [];

  beforeEach(async () => {
    server = await new FakeP4RuntimeServer({ deviceId: 1n }).start();
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.close();
    for (const t of transports.splice(0)) t.close();
    server.stop();
  });

  function session(electionId: bigint, extra: Partial<P4SwitchOptions> = {}): ArbitrationSession {
    const o = parseP4SwitchOptions({ address: server.address, deviceId: 1, electionId, connectTimeoutMs: 3000, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...extra });
    const t = new GrpcTransport(o);
    transports.push(t);
    const s = new ArbitrationSession(t, o);
    sessions.push(s);
    return s;
  }

  const when = (s: ArbitrationSession, pred: (st: ArbitrationState) => boolean): Promise<ArbitrationState> =>
    firstValueFrom(s.state$.pipe(filter(pred)));

  it('arbitration — the highest connected election id is primary, lower ones are told who is', async () => {
    const a = session(10n);
    expect(await a.start()).toEqual({ kind: 'primary', electionId: 10n });
    const b = session(5n);
    expect(await b.start()).toEqual({ kind: 'backup', electionId: 5n, primaryElectionId: 10n });
    const c = session(20n);
    expect(await c.start()).toEqual({ kind: 'primary', electionId: 20n });
    expect(await when(a, (s) => s.kind === 'backup')).toEqual({ kind: 'backup', electionId: 10n, primaryElectionId: 20n });
  });

  it('arbitration — a backup becomes primary when the primary leaves (highest connected wins)', async () => {
    const a = session(10n);
    await a.start();
    const b = session(5n);
    await b.start();
    a.close();
    expect(await when(b, (s) => s.kind === 'primary')).toEqual({ kind: 'primary', electionId: 5n });
  });

  it('arbitration — a duplicate election id fails connect with the fix in the message', async () => {
    await session(10n).start();
    const err = await session(10n).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect((err as P4RuntimeError).code).toBe('INVALID_ARGUMENT');
    expect((err as P4RuntimeError).message).toMatch(/Election id already exists.*onElectionIdConflict/);
    // Read once here, so callers need not parse the target's words.
    expect((err as P4RuntimeError).electionIdConflict).toBe(true);
  });

  it('arbitration — with bid-higher a duplicate election id is raised until it is free', async () => {
    await session(10n).start();
    await session(11n).start();
    const s = session(10n, { onElectionIdConflict: 'bid-higher' });
    expect(await s.start()).toEqual({ kind: 'primary', electionId: 12n });
    expect(s.electionId).toBe(12n);
    expect(server.connectedElectionIds()).toEqual([10n, 11n, 12n]);
  });

  it('arbitration — after the stream breaks it reconnects and re-bids with the same id', async () => {
    const s = session(42n);
    await s.start();
    const seen = firstValueFrom(s.state$.pipe(take(4), toArray()));
    server.breakStreams();
    const states = await seen;
    expect(states.map((x) => x.kind)).toEqual(['primary', 'disconnected', 'connecting', 'primary']);
    expect(states[1]).toMatchObject({ kind: 'disconnected', retrying: true, error: { code: 'UNAVAILABLE' } });
    expect(server.connectedElectionIds()).toEqual([42n]);
  });

  it('arbitration — connect gives up after connectTimeoutMs when nothing listens', async () => {
    const port = Number(server.address.split(':')[1]);
    server.stop();
    const o = parseP4SwitchOptions({ address: `127.0.0.1:${port}`, deviceId: 1, electionId: 1n, connectTimeoutMs: 300, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const t = new GrpcTransport(o);
    transports.push(t);
    const s = new ArbitrationSession(t, o);
    sessions.push(s);
    const err = (await s.start().catch((e: unknown) => e)) as P4RuntimeError;
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/no arbitration answer within 300 ms/);
  });

  it('arbitration — an unknown device id is final, not retried', async () => {
    const err = (await session(3n, { deviceId: 9 }).start().catch((e: unknown) => e)) as P4RuntimeError;
    expect(err.code).toBe('NOT_FOUND');
  });
});

/** An in-memory transport whose StreamChannel the test drives by hand. */
function scriptedTransport() {
  const opened: Array<{ handlers: StreamHandlers; sent: p4.v1.StreamMessageRequest.$Properties[]; closed: boolean }> = [];
  const transport = {
    openStream(handlers: StreamHandlers): StreamChannelHandle {
      const s = { handlers, sent: [] as p4.v1.StreamMessageRequest.$Properties[], closed: false };
      opened.push(s);
      return { send: (m) => s.sent.push(m), close: () => void (s.closed = true) };
    },
  } as unknown as P4RuntimeTransport;
  return { transport, opened };
}

function answer(status: number, primary: bigint): p4.v1.StreamMessageResponse {
  return p4.v1.StreamMessageResponse.create({ arbitration: { deviceId: toLong(1n), electionId: toUint128(primary), status: { code: status } } });
}

describe('arbitration — virtual time', () => {
  it('arbitration — reconnect back-off grows by the multiplier up to the cap, and the policy bounds attempts', async () => {
    const clock = new ManualClock();
    const { transport, opened } = scriptedTransport();
    const o = parseP4SwitchOptions({ address: '127.0.0.1:1', deviceId: 1, electionId: 9n, clock, reconnect: { initialDelayMs: 100, maxDelayMs: 500, multiplier: 2, maxAttempts: 5 } });
    const s = new ArbitrationSession(transport, o);
    const started = s.start();
    opened[0]!.handlers.onMessage(answer(0, 9n));
    expect(await started).toEqual({ kind: 'primary', electionId: 9n });
    expect(opened[0]!.sent[0]!.arbitration).toMatchObject({ electionId: toUint128(9n) });

    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      opened.at(-1)!.handlers.onClose({ code: 14, details: 'gone' });
      delays.push(clock.pending()[0]!);
      clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([100, 200, 400, 500, 500]);
    expect(opened).toHaveLength(6);
    // Every re-opened stream re-bids with the same id.
    expect(opened.every((x) => fromUint128(x.sent[0]!.arbitration!.electionId) === 9n)).toBe(true);
    opened.at(-1)!.handlers.onClose({ code: 14, details: 'gone for good' });
    expect(s.current).toMatchObject({ kind: 'disconnected', retrying: false, error: { code: 'UNAVAILABLE' } });
    expect(clock.pending()).toEqual([]);
  });

  it('arbitration — a successful answer resets the back-off', async () => {
    const clock = new ManualClock();
    const { transport, opened } = scriptedTransport();
    const s = new ArbitrationSession(transport, parseP4SwitchOptions({ address: '127.0.0.1:1', deviceId: 1, electionId: 9n, clock, reconnect: { initialDelayMs: 100 } }));
    const started = s.start();
    opened[0]!.handlers.onMessage(answer(0, 9n));
    await started;
    opened[0]!.handlers.onClose({ code: 14, details: 'x' });
    clock.advance(100);
    opened[1]!.handlers.onClose({ code: 14, details: 'x' });
    expect(clock.pending()).toEqual([200]);
    clock.advance(200);
    opened[2]!.handlers.onMessage(answer(6, 20n));
    expect(s.current).toEqual({ kind: 'backup', electionId: 9n, primaryElectionId: 20n });
    opened[2]!.handlers.onClose({ code: 14, details: 'x' });
    expect(clock.pending()).toEqual([100]);
    s.close();
  });

  it('arbitration — a spec target reporting no primary (NOT_FOUND) leaves us backup without a primary id', async () => {
    const { transport, opened } = scriptedTransport();
    const s = new ArbitrationSession(transport, parseP4SwitchOptions({ address: '127.0.0.1:1', deviceId: 1, electionId: 3n, clock: new ManualClock() }));
    const started = s.start();
    opened[0]!.handlers.onMessage(answer(5, 50n));
    expect(await started).toEqual({ kind: 'backup', electionId: 3n, primaryElectionId: undefined, highestSeen: 50n });
    s.rebid(51n);
    expect(fromUint128(opened[0]!.sent[1]!.arbitration!.electionId)).toBe(51n);
    opened[0]!.handlers.onMessage(answer(0, 51n));
    expect(s.current).toEqual({ kind: 'primary', electionId: 51n });
    s.close();
  });

  it('arbitration — the role name is sent in Role.name', async () => {
    const { transport, opened } = scriptedTransport();
    const s = new ArbitrationSession(transport, parseP4SwitchOptions({ address: '127.0.0.1:1', deviceId: 7, electionId: 3n, role: 'carryover', clock: new ManualClock() }));
    void s.start().catch(() => undefined);
    expect(opened[0]!.sent[0]!.arbitration).toMatchObject({ role: { name: 'carryover' }, deviceId: toLong(7n) });
    s.close();
  });
});

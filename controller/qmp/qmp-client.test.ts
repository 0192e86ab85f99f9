import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from 'p4runtime-ts';
import { FakeQmpServer, fakeEvent } from '../testing/fake-qmp-server.js';
import type { QmpEvent } from './messages.js';
import { QmpClient } from './qmp-client.js';
import { QmpError } from './errors.js';

let server: FakeQmpServer | undefined;
const clients: QmpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.stop();
  server = undefined;
});

async function connected(opts: { greeting?: unknown; tcp?: boolean } = {}, clock = new ManualClock()) {
  server = await FakeQmpServer.start(opts);
  const [client, peer] = await Promise.all([QmpClient.connect({ address: server.address, clock }), server.nextPeer()]);
  clients.push(client);
  return { client, peer, clock };
}

/** Collects events and the way the stream ended. */
function record(client: QmpClient) {
  const events: QmpEvent[] = [];
  const end: { error?: unknown; completed?: boolean } = {};
  client.events.subscribe({ next: (e) => events.push(e), error: (e: unknown) => (end.error = e), complete: () => (end.completed = true) });
  return { events, end };
}

const rejection = (p: Promise<unknown>): Promise<QmpError> => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as QmpError);

describe('qmp client against a fake QMP server', () => {
  it('qmp client — reads the greeting, negotiates, and resolves a command with its return value', async () => {
    const { client, peer } = await connected();
    expect(client.greeting.version).toEqual({ major: 7, minor: 2, micro: 22, package: 'fake' });
    expect(client.greeting.capabilities).toEqual(['oob']);
    const p = client.execute<{ status: string }>('query-status');
    const cmd = await peer.nextCommand();
    expect(cmd.execute).toBe('query-status');
    expect(cmd.arguments).toBeUndefined();
    peer.reply(cmd, { status: 'running', running: true });
    await expect(p).resolves.toEqual({ status: 'running', running: true });
  });

  it('qmp client — works over TCP the same way', async () => {
    const { client, peer } = await connected({ tcp: true });
    expect(client.description).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    const p = client.execute('migrate-continue', { state: 'pre-switchover' });
    const cmd = await peer.nextCommand();
    expect(cmd.arguments).toEqual({ state: 'pre-switchover' });
    peer.reply(cmd);
    await expect(p).resolves.toEqual({});
  });

  it('qmp client — gives every command a unique id and matches replies that come out of order', async () => {
    const { client, peer } = await connected();
    const a = client.execute('query-a');
    const b = client.execute('query-b');
    const c = client.execute('query-c');
    const [ca, cb, cc] = [await peer.nextCommand(), await peer.nextCommand(), await peer.nextCommand()];
    expect(new Set([ca.id, cb.id, cc.id]).size).toBe(3);
    peer.reply(cc, 'C');
    peer.reply(ca, 'A');
    peer.reply(cb, 'B');
    await expect(Promise.all([a, b, c])).resolves.toEqual(['A', 'B', 'C']);
  });

  it('qmp client — delivers events interleaved with replies, in order, with QEMU timestamps', async () => {
    const { client, peer, clock } = await connected();
    const { events } = record(client);
    const stop = client.nextEvent((e) => e.event === 'STOP', 1000);
    const p = client.executeOrdered('migrate', { uri: 'tcp:127.0.0.1:1' });
    const cmd = await peer.nextCommand();
    peer.send(fakeEvent('MIGRATION', { status: 'setup' }, 1_700_000_000_000.5));
    peer.reply(cmd);
    peer.send(fakeEvent('STOP'));
    const reply = await p;
    await stop;
    expect(events[0]!.seq).toBeLessThan(reply.seq);
    expect(events[1]!.seq).toBeGreaterThan(reply.seq);
    expect(events.map((e) => e.event)).toEqual(['MIGRATION', 'STOP']);
    expect(events[0]!.data).toEqual({ status: 'setup' });
    expect(events[0]!.timestampMs).toBeCloseTo(1_700_000_000_000.5, 3);
    expect(events[1]!.data).toEqual({});
    expect(events[0]!.receivedAt).toBe(clock.now());
  });

  it('qmp client — waiting for an event stops with CLOSED when its signal aborts, leaving no timer', async () => {
    const { client, clock } = await connected();
    const ac = new AbortController();
    const waiting = client.nextEvent(() => true, 5000, 'RESUME', ac.signal);
    expect(clock.pending()).toEqual([5000]);
    ac.abort();
    expect((await rejection(waiting)).message).toBe('stopped waiting for RESUME');
    expect(clock.pending()).toEqual([]);
  });

  it('qmp client — an error reply rejects that command with COMMAND_FAILED and its QEMU class; the session goes on', async () => {
    const { client, peer } = await connected();
    const bad = client.execute('bogus');
    const cmd = await peer.nextCommand();
    peer.send({ id: cmd.id, error: { class: 'CommandNotFound', desc: 'The command bogus has not been found' } });
    const err = await rejection(bad);
    expect(err).toBeInstanceOf(QmpError);
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.qmpClass).toBe('CommandNotFound');
    expect(err.command).toBe('bogus');
    expect(err.message).toContain('The command bogus has not been found');
    const ok = client.execute('query-status');
    peer.reply(await peer.nextCommand(), { status: 'running' });
    await expect(ok).resolves.toEqual({ status: 'running' });
  });

  it('qmp client — malformed JSON fails every pending command with PROTOCOL and errors the event stream', async () => {
    const { client, peer } = await connected();
    const { end } = record(client);
    const a = client.execute('query-a');
    const b = client.execute('query-b');
    await peer.nextCommand();
    await peer.nextCommand();
    peer.send('{"return": {}, "id": }\r\n');
    const [ea, eb] = await Promise.all([rejection(a), rejection(b)]);
    expect(ea.code).toBe('PROTOCOL');
    expect(ea.message).toMatch(/malformed JSON/);
    expect(eb).toBe(ea);
    expect((end.error as QmpError).code).toBe('PROTOCOL');
    expect(client.isClosed).toBe(true);
    expect((await rejection(client.execute('query-c'))).code).toBe('PROTOCOL');
  });

  it('qmp client — text that is not JSON at all (a human monitor) is refused with a hint', async () => {
    const { client, peer } = await connected();
    const p = client.execute('query-status');
    await peer.nextCommand();
    peer.send('QEMU 7.2.22 monitor - type help\r\n');
    const err = await rejection(p);
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toMatch(/-qmp, not -monitor/);
  });

  it('qmp client — a reply to an id it never sent is a PROTOCOL error, not silently dropped', async () => {
    const { client, peer } = await connected();
    const { end } = record(client);
    const p = client.execute('query-status');
    await peer.nextCommand();
    peer.send({ return: {}, id: 'someone-else-7' });
    expect((await rejection(p)).message).toMatch(/matches no command/);
    expect((end.error as QmpError).code).toBe('PROTOCOL');
  });

  it('qmp client — a reply without an id (QEMU answering a parse error) is a PROTOCOL error', async () => {
    const { client, peer } = await connected();
    const p = client.execute('query-status');
    await peer.nextCommand();
    peer.send({ error: { class: 'GenericError', desc: 'JSON parse error' } });
    const err = await rejection(p);
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toContain('JSON parse error');
  });

  it('qmp client — a second greeting mid-session is a PROTOCOL error', async () => {
    const { client, peer } = await connected();
    const p = client.execute('query-status');
    await peer.nextCommand();
    peer.send({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } });
    expect((await rejection(p)).message).toMatch(/second QMP greeting/);
  });

  it('qmp client — an event before the greeting (unexpected order) fails connect with CONNECT_FAILED naming the cause', async () => {
    server = await FakeQmpServer.start({ greeting: null });
    const connecting = QmpClient.connect({ address: server.address, clock: new ManualClock() });
    const peer = await server.nextPeer();
    peer.send(fakeEvent('STOP'));
    const err = await rejection(connecting);
    expect(err.code).toBe('CONNECT_FAILED');
    expect(err.message).toMatch(/event before its QMP greeting/);
  });

  it('qmp client — a greeting without a version is refused as not QMP', async () => {
    server = await FakeQmpServer.start({ greeting: { QMP: { capabilities: [] } } });
    const err = await rejection(QmpClient.connect({ address: server.address, clock: new ManualClock() }));
    expect(err.code).toBe('CONNECT_FAILED');
    expect(err.message).toMatch(/greeting without QMP.version.qemu/);
  });

  it('qmp client — the socket disappearing mid-command fails every pending command at once with CLOSED and errors the event stream', async () => {
    const { client, peer } = await connected();
    const { end } = record(client);
    const waiting = client.nextEvent((e) => e.event === 'MIGRATION', 60_000, 'a MIGRATION event');
    const a = client.execute('migrate', { uri: 'tcp:127.0.0.1:1' });
    const b = client.execute('query-migrate');
    await peer.nextCommand();
    await peer.nextCommand();
    peer.destroy();
    const [ea, eb, ew] = await Promise.all([rejection(a), rejection(b), rejection(waiting)]);
    expect(ea.code).toBe('CLOSED');
    expect(ea.message).toMatch(/did QEMU exit\?.*pending command\(s\) failed: migrate, query-migrate/);
    expect(eb).toBe(ea);
    expect(ew).toBe(ea);
    expect(end.error).toBe(ea);
    expect(client.failure).toBe(ea);
  });

  it('qmp client — a command without a reply times out in virtual time; its late reply is ignored and the session goes on', async () => {
    const { client, peer, clock } = await connected();
    const slow = client.execute('query-migrate', undefined, { timeoutMs: 500 });
    const cmd = await peer.nextCommand();
    expect(clock.pending()).toContain(500);
    clock.advance(499);
    let settled = false;
    void slow.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    clock.advance(1);
    const err = await rejection(slow);
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/'query-migrate'.*may still carry it out/);
    peer.reply(cmd, { status: 'active' });
    const next = client.execute('query-status');
    peer.reply(await peer.nextCommand(), { status: 'running' });
    await expect(next).resolves.toEqual({ status: 'running' });
    expect(client.isClosed).toBe(false);
  });

  it('qmp client — connect gives up with CONNECT_FAILED when no greeting comes (virtual time)', async () => {
    server = await FakeQmpServer.start({ greeting: null });
    const clock = new ManualClock();
    const connecting = QmpClient.connect({ address: server.address, clock, connectTimeoutMs: 2000 });
    await server.nextPeer();
    clock.advance(2000);
    const err = await rejection(connecting);
    expect(err.code).toBe('CONNECT_FAILED');
    expect(err.message).toMatch(/no QMP greeting and negotiation .* within 2000 ms/);
  });

  it('qmp client — connect gives up when qmp_capabilities is never answered (virtual time)', async () => {
    server = await FakeQmpServer.start({ autoNegotiate: false });
    const clock = new ManualClock();
    const connecting = QmpClient.connect({ address: server.address, clock, connectTimeoutMs: 3000 });
    const peer = await server.nextPeer();
    expect((await peer.nextCommand()).execute).toBe('qmp_capabilities');
    clock.advance(3000);
    expect((await rejection(connecting)).code).toMatch(/CONNECT_FAILED|TIMEOUT/);
  });

  it('qmp client — a missing socket fails connect with CONNECT_FAILED naming the path and the fix', async () => {
    const err = await rejection(QmpClient.connect({ address: '/nonexistent/dir/vm.qmp', clock: new ManualClock() }));
    expect(err.code).toBe('CONNECT_FAILED');
    expect(err.message).toContain('unix:/nonexistent/dir/vm.qmp');
    expect(err.message).toMatch(/-qmp option/);
  });

  it('qmp client — close() rejects pending commands with CLOSED and completes the event stream', async () => {
    const { client, peer } = await connected();
    const { end } = record(client);
    const p = client.execute('query-migrate');
    await peer.nextCommand();
    await client.close();
    const err = await rejection(p);
    expect(err.code).toBe('CLOSED');
    expect(err.message).toMatch(/closed by this client/);
    expect(end.completed).toBe(true);
    expect(end.error).toBeUndefined();
    expect(client.failure).toBeUndefined();
  });
});

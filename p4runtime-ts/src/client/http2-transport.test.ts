/**
 * The HTTP/2 transport against servers that misbehave: real node:http2 servers on 127.0.0.1:0 that
 * answer exactly as each test needs (a grpc-js server exercises the well-behaved paths in every
 * other client test, since this is the default transport).
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { p4 } from '../proto/index.js';
import { frameMessage } from './grpc-frames.js';
import { generateTestPki } from './testing/certs.js';
import { FakeP4RuntimeServer } from './testing/fake-p4rt-server.js';
import { Http2Transport } from './http2-transport.js';
import { parseP4SwitchOptions } from './options.js';
import type { P4SwitchOptions } from './options.js';
import type { TransportStatus } from './transport.js';

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, server: http2.Http2Server) => void;

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

/** A plain HTTP/2 server answering every stream with `handler`. */
async function rawServer(handler: Handler, options: http2.ServerOptions = {}): Promise<{ address: string; streams: http2.ServerHttp2Stream[]; sessions: number }> {
  const server = http2.createServer(options);
  const state = { address: '', streams: [] as http2.ServerHttp2Stream[], sessions: 0 };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    state.sessions++;
    sessions.add(s);
  });
  server.on('stream', (stream, headers) => {
    state.streams.push(stream);
    stream.on('error', () => undefined);
    handler(stream, headers, server);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  open.push({
    close: () => {
      for (const s of sessions) s.destroy();
      server.close();
    },
  });
  return state;
}

function transport(address: string, extra: Partial<P4SwitchOptions> = {}): Http2Transport {
  const t = new Http2Transport(parseP4SwitchOptions({ address, deviceId: 1, ...extra }));
  open.push(t);
  return t;
}

const GRPC_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const encodedCaps = (): Buffer => Buffer.from(p4.v1.CapabilitiesResponse.encode({ p4runtimeApiVersion: '1.3.0' }).finish());

/** Answers one message then an OK status. */
const answer = (body: Buffer): Handler => (stream) => {
  stream.respond(GRPC_HEADERS, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frameMessage(body));
};

/** `handler` once the stream's request has arrived, as a gRPC server answers (not for a stream reset before). */
const onRequest = (handler: Handler): Handler => (stream, headers, server) => {
  stream.on('data', () => undefined);
  stream.on('end', () => {
    if (!stream.destroyed && !stream.closed) handler(stream, headers, server);
  });
};

const failure = async (p: Promise<unknown>): Promise<{ code: number; details: string }> => {
  const e = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (x: unknown) => x,
  );
  return e as { code: number; details: string };
};

describe('http2 transport', () => {
  it('http2 transport — a unary call sends gRPC headers and one framed message, and decodes the answer', async () => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const srv = await rawServer((stream, headers) => {
      seen.push(headers);
      answer(encodedCaps())(stream, headers, undefined as never);
    });
    const caps = await transport(srv.address, { rpcTimeoutMs: 5000 }).capabilities();
    expect(caps.p4runtimeApiVersion).toBe('1.3.0');
    expect(seen[0]).toMatchObject({ ':path': '/p4.v1.P4Runtime/Capabilities', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '5000m' });
  });

  it('http2 transport — a refused connection is UNAVAILABLE naming the address, at once', async () => {
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    const e = await failure(transport(`127.0.0.1:${port}`).capabilities());
    expect(e.code).toBe(14);
    expect(e.details).toContain(`127.0.0.1:${port}`);
    expect(e.details).toMatch(/ECONNREFUSED/);
  });

  it('http2 transport — a server that is not gRPC (HTTP 404, or HTML) is named as such', async () => {
    const notFound = await rawServer((stream) => {
      stream.respond({ ':status': 404 });
      stream.end();
    });
    expect(await failure(transport(notFound.address).capabilities())).toMatchObject({ code: 12, details: expect.stringContaining('HTTP 404') });
    const html = await rawServer((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      stream.end('<html>');
    });
    expect(await failure(transport(html.address).capabilities())).toMatchObject({ code: 2, details: expect.stringContaining('text/html') });
  });

  it('http2 transport — a silent server runs into the deadline: DEADLINE_EXCEEDED, and the stream is reset', async () => {
    const srv = await rawServer(() => undefined);
    const e = await failure(transport(srv.address, { rpcTimeoutMs: 150 }).capabilities());
    expect(e).toMatchObject({ code: 4, details: expect.stringContaining('150 ms') });
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.streams[0]?.closed).toBe(true);
  });

  it('http2 transport — a trailer field over 64 KiB wedges Node\'s connection: the call ends at its deadline, a ping finds the connection dead, and the next call reconnects', async () => {
    // The first Write gets per-update details too large for one HTTP/2 header field (as a batch of
    // hundreds of failing updates with long messages would); later calls get a normal answer.
    let writes = 0;
    const srv = await rawServer((stream, headers) => {
      const big = headers[':path']?.endsWith('/Write') && ++writes === 1;
      stream.respond(GRPC_HEADERS, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(big ? { 'grpc-status': '2', 'grpc-status-details-bin': Buffer.alloc(100_000, 7).toString('base64') } : { 'grpc-status': '0' }));
      // An error's trailers follow the headers with no message, as grpc-js servers send them.
      if (big) stream.end();
      else stream.end(frameMessage(Buffer.alloc(0)));
      // No limit on what it sends, as grpc-js servers are set up (and grpc-core's).
    }, { maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
    const t = transport(srv.address, { rpcTimeoutMs: 300, keepaliveTimeoutMs: 200 });
    expect(await failure(t.write({ deviceId: 1 }))).toMatchObject({ code: 4, details: expect.stringContaining('300 ms') });
    // Without the ping the connection stays wedged: every later call would run into its deadline.
    await new Promise((r) => setTimeout(r, 400));
    await t.write({ deviceId: 1 });
    expect(srv.sessions).toBe(2);
  });

  it('http2 transport — the status in the trailers, Trailers-Only or not, with its message and details, reaches the caller', async () => {
    const details = Buffer.from([8, 3]);
    const srv = await rawServer((stream, headers) => {
      if (headers[':path']?.endsWith('/Write')) {
        stream.respond({ ...GRPC_HEADERS, 'grpc-status': '9', 'grpc-message': 'not%20primary' }, { endStream: true });
        return;
      }
      stream.respond(GRPC_HEADERS, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '2', 'grpc-message': 'boom', 'grpc-status-details-bin': details.toString('base64') }));
      stream.end();
    });
    const t = transport(srv.address);
    expect(await failure(t.write({ deviceId: 1 }))).toMatchObject({ code: 9, details: 'not primary' });
    const e = (await failure(t.capabilities())) as { code: number; details: string; metadata: TransportStatus['metadata'] };
    expect(e).toMatchObject({ code: 2, details: 'boom' });
    expect(e.metadata?.get('grpc-status-details-bin')).toEqual([details]);
  });

  it('http2 transport — OK with no message, a message cut short, or one past the limit: each its own error', async () => {
    const srv = await rawServer((stream, headers) => {
      stream.respond(GRPC_HEADERS, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const path = headers[':path'] ?? '';
      if (path.endsWith('/Capabilities')) stream.end();
      else if (path.endsWith('/Write')) stream.end(frameMessage(Buffer.alloc(10)).subarray(0, 8));
      else stream.end(frameMessage(Buffer.alloc(2000)));
    });
    const t = transport(srv.address, { maxReceiveMessageBytes: 1000 });
    expect(await failure(t.capabilities())).toMatchObject({ code: 13, details: expect.stringContaining('0 messages') });
    expect(await failure(t.write({ deviceId: 1 }))).toMatchObject({ code: 13, details: expect.stringContaining('inside a message') });
    expect(await failure(t.getPipeline({ deviceId: 1 }))).toMatchObject({ code: 8, details: expect.stringContaining('2000 vs. 1000') });
  });

  it('http2 transport — a request past maxSendMessageBytes is refused before anything is sent', async () => {
    const srv = await rawServer(answer(Buffer.alloc(0)));
    const e = await failure(transport(srv.address, { maxSendMessageBytes: 10 }).writeEncoded(new Uint8Array(11)));
    expect(e).toMatchObject({ code: 8, details: expect.stringContaining('11 vs. 10') });
    expect(srv.streams).toHaveLength(0);
  });

  it('http2 transport — a connection that drops mid-call ends it UNAVAILABLE; the next call connects again', async () => {
    let n = 0;
    const srv = await rawServer((stream, headers) => {
      if (n++ === 0) stream.session?.destroy();
      else answer(encodedCaps())(stream, headers, undefined as never);
    });
    const t = transport(srv.address);
    expect((await failure(t.capabilities())).code).toBe(14);
    expect((await t.capabilities()).p4runtimeApiVersion).toBe('1.3.0');
    expect(srv.sessions).toBe(2);
  });

  it('http2 transport — after GOAWAY the next call opens a new connection', async () => {
    const srv = await rawServer((stream, headers) => {
      answer(encodedCaps())(stream, headers, undefined as never);
      stream.session?.goaway();
    });
    const t = transport(srv.address);
    await t.capabilities();
    await new Promise((r) => setTimeout(r, 20));
    await t.capabilities();
    expect(srv.sessions).toBe(2);
  });

  it('http2 transport — a Read streams every response in order and stops the server when the reader breaks off', async () => {
    const srv = await rawServer((stream) => {
      stream.respond(GRPC_HEADERS, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const one = (i: number): Buffer => frameMessage(p4.v1.ReadResponse.encode({ entities: [{ registerEntry: { registerId: 1, index: { index: i } } }] }).finish());
      let i = 0;
      const pump = (): void => {
        while (i < 500) if (!stream.write(one(i++))) return void stream.once('drain', pump);
        stream.end();
      };
      pump();
    });
    const t = transport(srv.address);
    const all: number[] = [];
    for await (const r of t.read({ deviceId: 1 })) all.push(Number(r.entities[0]?.registerEntry?.index?.index));
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i));
    let taken = 0;
    for await (const _ of t.read({ deviceId: 1 })) if (++taken === 3) break;
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.streams[1]?.closed).toBe(true);
  });

  it('http2 transport — a StreamChannel gets every message, and the server ending it reaches onClose with its status', async () => {
    const srv = await rawServer((stream) => {
      stream.respond(GRPC_HEADERS, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '3', 'grpc-message': 'bad election id' }));
      stream.on('data', () => {
        stream.write(frameMessage(p4.v1.StreamMessageResponse.encode({ arbitration: { deviceId: 1 } }).finish()));
        stream.end();
      });
    });
    const got: string[] = [];
    const closed = new Promise<TransportStatus>((resolve) => {
      const h = transport(srv.address).openStream({ onMessage: (m) => got.push(m.update ?? ''), onClose: resolve });
      h.send({ arbitration: { deviceId: 1 } });
    });
    expect(await closed).toMatchObject({ code: 3, details: 'bad election id' });
    expect(got).toEqual(['arbitration']);
  });

  it('http2 transport — a unix: address reaches a server on that socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h2-unix-'));
    const path = join(dir, 'p4rt.sock');
    const server = http2.createServer();
    server.on('stream', (stream, headers) => answer(encodedCaps())(stream, headers, server));
    await new Promise<void>((r) => server.listen(path, r));
    open.push({
      close: () => {
        server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
    expect((await transport(`unix:${path}`).capabilities()).p4runtimeApiVersion).toBe('1.3.0');
  });

  it('http2 transport — keepalive pings while a call is open; a peer that never answers one loses the connection: UNAVAILABLE', async () => {
    let pings = 0;
    const live = await new Promise<{ address: string }>((resolve) => {
      const server = http2.createServer();
      server.on('session', (s) => s.on('ping', () => pings++));
      server.on('stream', (stream) => stream.respond(GRPC_HEADERS));
      server.listen(0, '127.0.0.1', () => resolve({ address: `127.0.0.1:${(server.address() as AddressInfo).port}` }));
      open.push({ close: () => server.close() });
    });
    const t1 = transport(live.address, { keepaliveMs: 20, keepaliveTimeoutMs: 1000 });
    const h1 = t1.openStream({ onMessage: () => undefined, onClose: () => undefined });
    await new Promise((r) => setTimeout(r, 150));
    expect(pings).toBeGreaterThan(0);
    h1.close();

    // A peer that completes the HTTP/2 handshake (its SETTINGS, and the ACK of ours) and then
    // answers nothing, PINGs included.
    const mute = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0]));
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    open.push({ close: () => mute.close() });
    const t2 = transport(`127.0.0.1:${(mute.address() as AddressInfo).port}`, { keepaliveMs: 20, keepaliveTimeoutMs: 60 });
    const closed = new Promise<TransportStatus>((resolve) => t2.openStream({ onMessage: () => undefined, onClose: resolve }));
    const s = await closed;
    expect(s.code).toBe(14);
    expect(s.details).toContain('the connection stopped answering (keepalive; a ping got no answer within 60 ms): reconnecting');
  });

  it('http2 transport — a finished unary call is never reset: thousands on one connection to a grpc-js server all succeed', async () => {
    // A reset per call reads as a rapid-reset flood to Node's HTTP/2 server, which then drops the
    // connection (GOAWAY, INTERNAL_ERROR) mid-run: this failed so before the fix.
    const server = await new FakeP4RuntimeServer().start();
    open.push({ close: () => server.stop() });
    const t2 = transport(server.address);
    for (let i = 0; i < 3000; i++) await t2.capabilities();
  });

  it('http2 transport — many calls at once share the connection without piling listeners on it', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const srv = await rawServer((stream, headers) => setTimeout(() => answer(encodedCaps())(stream, headers, undefined as never), 5));
      const t = transport(srv.address);
      const all = await Promise.all(Array.from({ length: 50 }, () => t.capabilities()));
      expect(all.map((c) => c.p4runtimeApiVersion)).toEqual(Array(50).fill('1.3.0'));
      expect(srv.sessions).toBe(1);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('http2 transport — over TLS, SNI carries serverName or a host name, never an IP address (RFC 6066)', async () => {
    const pki = generateTestPki();
    open.push({ close: () => pki.cleanup() });
    const sni: Array<string | undefined> = [];
    const server = http2.createSecureServer({
      key: pki.serverKey,
      cert: pki.serverCert,
      SNICallback: (name, cb) => {
        sni.push(name);
        cb(null, undefined);
      },
    });
    server.on('session', (sess) => {
      const name = (sess.socket as unknown as { servername?: string | false }).servername;
      if (name === false || name === undefined) sni.push(undefined);
    });
    server.on('stream', (stream, headers) => answer(encodedCaps())(stream, headers, undefined as never));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push({ close: () => server.close() });
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Checked against the IP address in the certificate; no SNI sent.
    expect((await transport(address, { credentials: { kind: 'tls', ca: pki.caCert } }).capabilities()).p4runtimeApiVersion).toBe('1.3.0');
    expect(sni).toEqual([undefined]);
    // A serverName goes out as SNI (and the certificate, issued for 127.0.0.1 only, is refused).
    const e = await failure(transport(address, { credentials: { kind: 'tls', ca: pki.caCert, serverName: 'switch.example' } }).capabilities());
    expect(e.code).toBe(14);
    expect(sni).toContain('switch.example');
  });

  it('http2 transport — a Write or Read after the first takes a stream opened ahead: headers already sent, no grpc-timeout, the deadline counted from the call', async () => {
    // Answers a call once its request has arrived, as a gRPC server does.
    const requested: http2.ServerHttp2Stream[] = [];
    const heads: http2.IncomingHttpHeaders[] = [];
    const srv = await rawServer((stream, headers) => {
      heads.push(headers);
      onRequest(() => {
        requested.push(stream);
        const body = headers[':path'] === '/p4.v1.P4Runtime/Read' ? Buffer.from(p4.v1.ReadResponse.encode({ entities: [] }).finish()) : Buffer.alloc(0);
        answer(body)(stream, headers, undefined as never);
      })(stream, headers, undefined as never);
    });
    const t = transport(srv.address, { rpcTimeoutMs: 100 });
    const readAll = async (): Promise<void> => {
      for await (const _ of t.read({ deviceId: 1 })) void _;
    };
    const pathOf = (x: http2.ServerHttp2Stream): unknown => heads[srv.streams.indexOf(x)]?.[':path'];
    await t.write({ deviceId: 1 });
    await readAll();
    await new Promise((r) => setTimeout(r, 30));
    // Two calls made, four streams: one Write and one Read waiting, headers only.
    expect(srv.streams).toHaveLength(4);
    expect(requested).toHaveLength(2);
    const ahead = srv.streams.filter((x) => !requested.includes(x));
    expect(ahead.map(pathOf).sort()).toEqual(['/p4.v1.P4Runtime/Read', '/p4.v1.P4Runtime/Write']);
    for (const x of ahead) expect(heads[srv.streams.indexOf(x)]?.['grpc-timeout']).toBeUndefined();
    expect(heads[0]?.['grpc-timeout']).toBe('100m');
    // Idle past the 100 ms deadline: the next calls still succeed, on those streams.
    await new Promise((r) => setTimeout(r, 150));
    await t.write({ deviceId: 1 });
    await readAll();
    expect(requested.slice(2).map(pathOf)).toEqual(['/p4.v1.P4Runtime/Write', '/p4.v1.P4Runtime/Read']);
    expect(new Set(requested.slice(2))).toEqual(new Set(ahead));
    // Capabilities keeps no stream ahead: after it, again one Write and one Read waiting.
    await t.capabilities();
    await new Promise((r) => setTimeout(r, 30));
    expect(srv.streams).toHaveLength(7);
    expect(srv.streams.filter((x) => !requested.includes(x)).map(pathOf).sort()).toEqual(['/p4.v1.P4Runtime/Read', '/p4.v1.P4Runtime/Write']);
  });

  it('http2 transport — a stream opened ahead that the server ended, or that answered before any request, is not used: the call opens its own', async () => {
    let n = 0;
    const srv = await rawServer((stream, headers) => {
      const i = n++;
      // Stream 1 (the first Write's spare) is reset by the server; stream 3 (the next spare) gets a
      // status before any request; every other stream is answered once its request arrives.
      if (i === 1) return void setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 5);
      if (i === 3) {
        stream.respond({ ...GRPC_HEADERS, 'grpc-status': '14', 'grpc-message': 'going away' }, { endStream: true });
        return;
      }
      onRequest(answer(Buffer.alloc(0)))(stream, headers, undefined as never);
    });
    const t = transport(srv.address);
    await t.write({ deviceId: 1 });
    await new Promise((r) => setTimeout(r, 40));
    await t.write({ deviceId: 1 });
    await new Promise((r) => setTimeout(r, 40));
    await t.write({ deviceId: 1 });
    await new Promise((r) => setTimeout(r, 30));
    // Three calls, each on a fresh stream; three streams opened ahead, two of them never used.
    expect(srv.streams).toHaveLength(6);
  });

  it('http2 transport — with openStreamsAhead false every call opens its own stream, and nothing waits between calls', async () => {
    const srv = await rawServer(onRequest(answer(Buffer.alloc(0))));
    const t = transport(srv.address, { openStreamsAhead: false });
    await t.write({ deviceId: 1 });
    await t.write({ deviceId: 1 });
    await new Promise((r) => setTimeout(r, 30));
    expect(srv.streams).toHaveLength(2);
    expect(() => parseP4SwitchOptions({ address: '127.0.0.1:1', deviceId: 1, openStreamsAhead: 'yes' as never })).toThrow(/openStreamsAhead.*true or false/);
  });

  it('http2 transport — close() resets the streams opened ahead', async () => {
    const srv = await rawServer((stream, headers) => {
      const body = headers[':path'] === '/p4.v1.P4Runtime/Read' ? Buffer.from(p4.v1.ReadResponse.encode({ entities: [] }).finish()) : Buffer.alloc(0);
      onRequest(answer(body))(stream, headers, undefined as never);
    });
    const t = transport(srv.address);
    await t.write({ deviceId: 1 });
    for await (const _ of t.read({ deviceId: 1 })) void _;
    await new Promise((r) => setTimeout(r, 30));
    // The Write, the Read, and a stream of each opened ahead.
    expect(srv.streams).toHaveLength(4);
    expect(srv.streams.filter((x) => !x.closed)).toHaveLength(2);
    t.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(srv.streams.every((x) => x.closed)).toBe(true);
    expect((await failure(t.write({ deviceId: 1 }))).code).toBe(1);
  });

  it('http2 transport — Writes and Reads on streams opened ahead against a grpc-js server: hundreds in turn, each answered as its own', async () => {
    const server = await new FakeP4RuntimeServer().start();
    open.push({ close: () => server.stop() });
    const t = transport(server.address);
    // No arbitration and no pipeline: each Write is refused as not primary and each Read for want of
    // a pipeline — statuses the server gives only once it has the request.
    const codes = { write: new Set<number>(), read: new Set<number>() };
    const readAll = async (): Promise<void> => {
      for await (const _ of t.read({ deviceId: 1, entities: [{ tableEntry: {} }] })) void _;
    };
    for (let i = 0; i < 300; i++) {
      codes.write.add((await failure(t.write({ deviceId: 1, electionId: { high: 0, low: 1 }, updates: [] }))).code);
      codes.read.add((await failure(readAll())).code);
    }
    expect([...codes.write]).toEqual([7]);
    expect([...codes.read]).toEqual([9]);
  });

  it('http2 transport — close() ends a call in flight CANCELLED', async () => {
    const srv = await rawServer(() => undefined);
    const t = transport(srv.address);
    const p = failure(t.capabilities());
    await new Promise((r) => setTimeout(r, 30));
    t.close();
    expect((await p).code).toBe(1);
    expect((await failure(t.capabilities())).code).toBe(1);
  });
});

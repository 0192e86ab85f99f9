/**
 * A fake QMP server for unit tests: a real Unix socket in a temporary directory, scripted by the
 * test line by line. It speaks just enough QMP to be told apart from QEMU in every test name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A command as the client sent it. */
export interface ReceivedCommand {
  readonly execute: string;
  readonly arguments?: Record<string, unknown>;
  readonly id?: unknown;
}

/** QEMU 7.2's greeting, as the fake sends it by default. */
export const QEMU_72_GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] } };

/** An event line with a timestamp, the way QEMU writes it. */
export function fakeEvent(event: string, data?: Record<string, unknown>, atMs = 1_700_000_000_123.456): Record<string, unknown> {
  const seconds = Math.floor(atMs / 1000);
  const timestamp = { seconds, microseconds: Math.round((atMs - seconds * 1000) * 1000) };
  return data === undefined ? { timestamp, event } : { timestamp, event, data };
}

/** One client connection, seen from the fake server. */
export class FakeQmpPeer {
  private buf = '';
  private readonly queue: ReceivedCommand[] = [];
  private waiters: ((c: ReceivedCommand) => void)[] = [];
  /** Replies the peer gives by itself, by command name (the rest wait for the test). */
  readonly auto = new Map<string, (c: ReceivedCommand) => unknown>();

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (line.length === 0) continue;
        const cmd = JSON.parse(line) as ReceivedCommand;
        const reply = this.auto.get(cmd.execute);
        if (reply) {
          this.send({ return: reply(cmd), id: cmd.id });
          continue;
        }
        const w = this.waiters.shift();
        if (w) w(cmd);
        else this.queue.push(cmd);
      }
    });
  }

  /** Sends a message (an object as one JSON line, a string as is). */
  send(msg: unknown): void {
    this.socket.write(typeof msg === 'string' ? msg : `${JSON.stringify(msg)}\r\n`);
  }

  /** The next command the client sent (that no auto-reply answered). */
  nextCommand(): Promise<ReceivedCommand> {
    const c = this.queue.shift();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Answers `cmd` with a success reply. */
  reply(cmd: ReceivedCommand, value: unknown = {}): void {
    this.send({ return: value, id: cmd.id });
  }

  /** Drops the connection abruptly, as a crashing QEMU would. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** The fake server: accepts connections on a Unix socket and hands each to the test. */
export class FakeQmpServer {
  private readonly peers: FakeQmpPeer[] = [];
  private waiters: ((p: FakeQmpPeer) => void)[] = [];

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    /** The address to give the client: `unix:PATH` or `tcp:127.0.0.1:PORT`. */
    readonly address: string,
  ) {}

  /**
   * Listens on a fresh Unix socket (or TCP on 127.0.0.1:0 with `tcp`). `greeting` is sent on connect (`null` sends nothing) and
   * `qmp_capabilities` is answered automatically unless `autoNegotiate` is false.
   */
  static async start(options: { greeting?: unknown; autoNegotiate?: boolean; tcp?: boolean } = {}): Promise<FakeQmpServer> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-qmp-'));
    const path = join(dir, 'qmp.sock');
    const accepted: FakeQmpPeer[] = [];
    const holder: { self?: FakeQmpServer } = {};
    const server = createServer((socket) => {
      const peer = new FakeQmpPeer(socket);
      if (options.autoNegotiate !== false) peer.auto.set('qmp_capabilities', () => ({}));
      if (options.greeting !== null) peer.send(options.greeting ?? QEMU_72_GREETING);
      if (holder.self) holder.self.accept(peer);
      else accepted.push(peer);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (options.tcp) server.listen(0, '127.0.0.1', () => resolve());
      else server.listen(path, () => resolve());
    });
    const addr = server.address();
    const address = options.tcp && typeof addr === 'object' && addr !== null ? `tcp:127.0.0.1:${addr.port}` : `unix:${path}`;
    const self = new FakeQmpServer(server, dir, address);
    holder.self = self;
    for (const p of accepted) self.accept(p);
    return self;
  }

  /** The next client connection. */
  nextPeer(): Promise<FakeQmpPeer> {
    const p = this.peers.shift();
    if (p) return Promise.resolve(p);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening, drops every connection and removes the socket's directory. */
  async stop(): Promise<void> {
    for (const p of this.all) p.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private readonly all: FakeQmpPeer[] = [];

  private accept(peer: FakeQmpPeer): void {
    this.all.push(peer);
    const w = this.waiters.shift();
    if (w) w(peer);
    else this.peers.push(peer);
  }
}

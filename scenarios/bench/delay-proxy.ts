/**
 * A TCP proxy on loopback that delays every byte by a fixed one-way time in each direction —
 * what a WAN link between two data centres adds, without network namespaces or `tc netem`.
 * Order is kept (one queue per direction, released in arrival order), half-closes are forwarded
 * after the same delay, and reading pauses while too much waits (memory stays bounded).
 *
 * @example
 * const hop = await startDelayProxy({ target: server.address, delayMs: 10 });
 * // dial hop.address instead of server.address: each direction now takes 10 ms longer
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** Options of startDelayProxy. */
export interface DelayProxyOptions {
  /** `host:port` to forward to. */
  readonly target: string;
  /** One-way delay added in each direction (ms). */
  readonly delayMs: number;
  /** Where to listen. Default `127.0.0.1:0`. */
  readonly listen?: string;
  /** Bytes waiting in one direction past which its reading pauses. Default 4 MiB. */
  readonly highWaterBytes?: number;
}

/** A running proxy. */
export interface DelayProxy {
  readonly address: string;
  /** Connections accepted, and chunks forwarded (both directions). */
  stats(): { readonly connections: number; readonly chunks: number; readonly bytes: number };
  close(): Promise<void>;
}

const split = (a: string): { host: string; port: number } => ({ host: a.slice(0, a.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port: Number(a.slice(a.lastIndexOf(':') + 1)) });

/** Starts the proxy; resolves once it listens. */
export async function startDelayProxy(o: DelayProxyOptions): Promise<DelayProxy> {
  if (!(Number.isFinite(o.delayMs) && o.delayMs >= 0)) throw new Error(`DelayProxyOptions.delayMs: expected a non-negative number of milliseconds, got ${o.delayMs}`);
  const high = o.highWaterBytes ?? 4 * 1024 * 1024;
  const target = split(o.target);
  const sockets = new Set<Socket>();
  let connections = 0;
  let chunks = 0;
  let bytes = 0;

  /** Forwards `from` to `to` with the delay; `null` in the queue is the half-close. */
  const pipe = (from: Socket, to: Socket): void => {
    const queue: { at: number; data: Buffer | null }[] = [];
    let waiting = 0;
    let timer: NodeJS.Timeout | undefined;
    const release = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && (queue[0]?.at ?? Infinity) <= now) {
        const { data } = queue.shift() as { at: number; data: Buffer | null };
        if (data === null) {
          to.end();
          continue;
        }
        waiting -= data.length;
        chunks++;
        bytes += data.length;
        if (!to.destroyed) to.write(data);
      }
      if (waiting < high && from.isPaused()) from.resume();
      const next = queue[0];
      if (next) timer = setTimeout(release, Math.max(0, next.at - performance.now()));
    };
    const enqueue = (data: Buffer | null): void => {
      queue.push({ at: performance.now() + o.delayMs, data });
      if (data) waiting += data.length;
      if (waiting >= high) from.pause();
      timer ??= setTimeout(release, o.delayMs);
    };
    from.on('data', (d: Buffer) => enqueue(d));
    from.on('end', () => enqueue(null));
    from.on('close', () => {
      if (timer && queue.length === 0) clearTimeout(timer);
    });
  };

  const server = createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    const upstream = connect({ ...target, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
    }
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  const listen = split(o.listen ?? '127.0.0.1:0');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `${address}:${port}`,
    stats: () => ({ connections, chunks, bytes }),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

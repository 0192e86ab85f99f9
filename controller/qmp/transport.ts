/**
 * How the client reaches a monitor: a byte stream opened by a `QmpTransport`. QEMU serves QMP on
 * a Unix socket (`-qmp unix:PATH,server=on`) or TCP (`-qmp tcp:HOST:PORT,server=on`); both are
 * a `net.Socket`, and tests may inject anything else that moves text.
 */
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';

/** What the client hears from a connection. */
export interface QmpConnectionHandlers {
  data(chunk: string): void;
  /** The stream ended; `error` when it ended abnormally (reset, refused, …). */
  close(error: Error | undefined): void;
}

/** An open byte stream to one monitor. */
export interface QmpConnection {
  /** Starts delivering data and close to `handlers` (called once, right after open). */
  listen(handlers: QmpConnectionHandlers): void;
  write(text: string): void;
  /** Closes the stream now; `close` is still reported once. */
  destroy(): void;
}

/** Opens connections to one monitor. */
export interface QmpTransport {
  /** For messages, e.g. `unix:/run/vm1.qmp`. */
  readonly description: string;
  open(): Promise<QmpConnection>;
}

/** Where a monitor listens. */
export type QmpEndpoint = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** A transport over a Unix or TCP socket. */
export function socketTransport(endpoint: QmpEndpoint): QmpTransport {
  const description = endpoint.kind === 'unix' ? `unix:${endpoint.path}` : `tcp:${endpoint.host}:${endpoint.port}`;
  return {
    description,
    open: () =>
      new Promise<QmpConnection>((resolve, reject) => {
        const socket = endpoint.kind === 'unix' ? createConnection({ path: endpoint.path }) : createConnection({ host: endpoint.host, port: endpoint.port });
        const onError = (e: Error): void => reject(e);
        socket.once('error', onError);
        socket.once('connect', () => {
          socket.off('error', onError);
          resolve(socketConnection(socket));
        });
      }),
  };
}

function socketConnection(socket: Socket): QmpConnection {
  socket.setEncoding('utf8');
  let lastError: Error | undefined;
  // Until listen() is called, errors are remembered so none is thrown unhandled.
  socket.on('error', (e) => {
    lastError = e;
  });
  return {
    listen(h) {
      socket.on('data', (chunk: string) => h.data(chunk));
      socket.on('close', () => h.close(lastError));
    },
    write(text) {
      socket.write(text);
    },
    destroy() {
      socket.destroy();
    },
  };
}

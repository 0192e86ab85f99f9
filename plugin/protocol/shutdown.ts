/** Stopping a gRPC server: gracefully, or by force once `graceMs` passed (a stuck call must not hold a shutdown forever). */
import type { Server } from '@grpc/grpc-js';

/** Resolves once `server` shut down: gracefully, or forcibly after `graceMs`. */
export function shutDownServer(server: Server, graceMs = 1000): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

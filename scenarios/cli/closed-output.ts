/**
 * An output that closes under a running command (`carryover migrate … 2>&1 | head`, a terminal
 * that went away) must not end the command: a migration stopped half way leaves a frozen source
 * or a staged destination. Node reports the closed pipe as an 'error' event (EPIPE) on
 * process.stdout/stderr, and an 'error' nobody listens to ends the process — silently, since
 * its message would go to the closed stderr. Lines written after that are dropped.
 */
import type { Writable } from 'node:stream';

/** The error codes of an output whose reader has gone: ignored, the command carries on. */
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

/** Keeps the process running when `stream`'s reader goes away; any other error still ends it. */
export function survivesClosedOutput(stream: Writable): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (GONE.has(e.code ?? '')) return;
    // Anything else is what it was before this listener: an uncaught error.
    process.nextTick(() => {
      throw e;
    });
  });
}

/**
 * One instance of each hot class kept alive for the life of the process.
 *
 * Why: when every instance of such a class has died — between two large writes, or between two
 * migrations — the next full collection makes V8 throw away the optimized code built for it
 * (`--trace-deopt`: "marking dependent code … reason: weak objects"); most likely the class's
 * final hidden class, reached through transitions V8 holds weakly, is collected. The next write
 * then runs unoptimized and compiles again on a helper thread, in what may be a VM's pause. In the
 * bench (10^4 flows, 1,000 changed) that was 6–12 ms of a core per pause for concatWriteRequest
 * alone; with one EncodedUpdate and one EncodedPacketIn kept, the encoders and
 * concatWriteRequest were no longer discarded at all (BENCHMARKS.md, session of 2026-12-04 from 21:38).
 */
const kept: object[] = [];

/** Keeps `instance` (and so its class's final map) alive for the life of the process; returns it. */
export function keepShape<T extends object>(instance: T): T {
  kept.push(instance);
  return instance;
}


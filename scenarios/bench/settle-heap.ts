/**
 * Keeps one measured window from paying for another's garbage. Inputs built just before a
 * window (entries, protobuf objects) sit in V8's young generation; the next scavenge must copy
 * them, and V8 runs scavenges as event-loop tasks — so whichever window first yields to the
 * event loop (p4runtime-ts's write() yields between batches, a synchronous encode never does)
 * paid for copying everyone's inputs: 25–75 ms in one window in a trace of `bench p4rt`.
 * Settling promotes them out of the young generation and lets pending GC tasks run before the
 * clock starts, the same for every client.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'minor' | 'major' }) => void;

let cached: Gc | null | undefined;

/** V8's gc(): from `node --expose-gc`, else by turning that flag on now; null if neither works. */
export function exposedGc(): Gc | null {
  if (cached !== undefined) return cached;
  const own = (globalThis as { gc?: Gc }).gc;
  if (typeof own === 'function') return (cached = own);
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    cached = typeof gc === 'function' ? (gc as Gc) : null;
  } catch {
    cached = null;
  }
  return cached;
}

/**
 * Two young-generation collections (a survivor of two is promoted) and one turn of the event
 * loop. Returns false when gc() is unavailable and only the event-loop turn happened.
 */
export async function settleHeap(): Promise<boolean> {
  const gc = exposedGc();
  gc?.({ type: 'minor' });
  gc?.({ type: 'minor' });
  await new Promise<void>((resolve) => setImmediate(resolve));
  return gc !== null;
}

/**
 * Keeps one measured window from paying for another's garbage. Inputs built just before a
 * window (entries, protobuf objects) sit in V8's young generation; the next scavenge must copy
 * them, and V8 runs scavenges as event-loop tasks — so whichever window first yields to the
 * event loop (p4runtime-ts's write() yields between batches, a synchronous encode never does)
 * paid for copying everyone's inputs: 25–75 ms in one window in a trace of `bench p4rt`.
 * Settling promotes them out of the young generation and lets pending GC tasks run before the
 * clock starts, the same for every client.
 */
import { exposedGc } from '../../controller/index.js';

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

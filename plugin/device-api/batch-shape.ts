/**
 * StateBatches in one shape. A destination gets batches built in several ways — the snapshot,
 * delta rounds, the pause's batch taken ahead, the final batch with its counters and proof, a
 * batch decoded from the wire, one with removed keys folded in by the controller — and V8 gives
 * each way its own hidden class. Code optimized on pre-copy's batches then met a new class at the
 * pause's first batch of another kind and was thrown away there, inside the pause (`--trace-deopt`:
 * "wrong map" in checkIncomingBatch and importSlots at their first read of the batch). Copied into
 * one literal, every batch has the same class and the same fields in the same order.
 */
import type { StateBatch } from './device-api.js';

/**
 * `b` with every field of StateBatch present (undefined where `b` has none), always in the same order.
 *
 * @example
 * ```ts
 * const batch = inOneShape(incoming); // then checked and imported
 * ```
 */
export function inOneShape(b: StateBatch): StateBatch {
  return {
    migrationId: b.migrationId,
    source: b.source,
    round: b.round,
    slots: b.slots,
    removed: b.removed,
    coversSeq: b.coversSeq,
    tableEntries: b.tableEntries,
    counters: b.counters,
    clock: b.clock,
    proof: b.proof,
  };
}

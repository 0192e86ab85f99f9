/**
 * What a table entry's `time_since_last_hit` means on the target, turned into the time since the
 * entry's last hit (the P4Runtime spec's meaning: `elapsed_ns` is the time since the entry was
 * last hit, or inserted).
 *
 * BMv2 (simple_switch_grpc 1.15.5, and every release since 2019) deviates: its PI target computes
 * the remaining TTL as `(timeout_ms - time_since_hit_ms) * 1000 * 1000` in 32-bit unsigned
 * arithmetic (behavioral-model PI/src/pi_tables_imp.cpp, `_pi_table_entry_get_remaining_ttl`; both
 * operands are `uint32_t`, include/bm/bm_sim/match_tables.h `EntryCommon`), and PI's frontend
 * reports `idle_timeout_ns - remaining` (PI proto/frontend/src/device_mgr.cpp,
 * `set_time_since_last_hit`). So the reported remaining time is the real one modulo 2^32 ns
 * (≈4.295 s): a 60 s entry just inserted reads ≈55.8 s since its last hit. Nothing is lost,
 * though: the product is a whole number of milliseconds times 10^6 = 2^6 · 15625, and 15625 is
 * odd, so the remaining milliseconds come back exactly modulo 2^26 ms (≈18.6 h).
 */

/**
 * How the target fills `time_since_last_hit`. `auto`: a value of BMv2's shape (remaining time a
 * multiple of 64 ns below 2^32 ns, decoding to at most the timeout) is unwrapped, anything else
 * read as the spec's — exact on BMv2 and on any target that reports whole milliseconds. `spec`:
 * as reported (a target with sub-millisecond values, where `auto` could misread about 1 value in
 * 64 · 2^26 ms / timeout).
 */
export type IdleTimeReport = 'auto' | 'spec';

const WRAP_NS = 1n << 32n;
const MS_MOD = 1n << 26n;
/** 15625⁻¹ modulo 2^26 (Newton's iteration; 15625 is odd, so it is invertible). */
const INV_15625 = ((): bigint => {
  let x = 1n;
  for (let i = 0; i < 6; i++) x = (x * (2n - 15_625n * x)) % MS_MOD;
  return ((x % MS_MOD) + MS_MOD) % MS_MOD;
})();

/**
 * The remaining ms BMv2 wrapped into `reportedRemainingNs` (its remaining ns modulo 2^32), or
 * undefined when the value cannot have come from that formula or decodes beyond the timeout.
 */
export function unwrapBmv2RemainingNs(reportedRemainingNs: bigint, idleTimeoutNs: bigint): bigint | undefined {
  if (reportedRemainingNs < 0n || reportedRemainingNs >= WRAP_NS || reportedRemainingNs % 64n !== 0n) return undefined;
  const remainingMs = ((reportedRemainingNs / 64n) * INV_15625) % MS_MOD;
  const remainingNs = remainingMs * 1_000_000n;
  return remainingNs <= idleTimeoutNs ? remainingNs : undefined;
}

/**
 * The time since the entry's last hit, from a read with `time_since_last_hit` (undefined when
 * the read carried none), the way `report` says the target fills it.
 */
export function sinceLastHitNs(e: { readonly idleTimeoutNs: bigint; readonly elapsedNs?: bigint | undefined }, report: IdleTimeReport): bigint | undefined {
  if (e.elapsedNs === undefined) return undefined;
  if (report === 'spec' || e.idleTimeoutNs <= 0n) return e.elapsedNs;
  const unwrapped = unwrapBmv2RemainingNs(e.idleTimeoutNs - e.elapsedNs, e.idleTimeoutNs);
  // A value BMv2's formula cannot have produced comes from a target that follows the spec.
  if (unwrapped === undefined) return e.elapsedNs;
  return e.idleTimeoutNs - unwrapped;
}

/** Idle time left: the idle timeout minus the time since the last hit (0 when over; the timeout when the read carried none). */
export function remainingIdleNs(e: { readonly idleTimeoutNs: bigint; readonly elapsedNs?: bigint | undefined }, report: IdleTimeReport): bigint {
  const since = sinceLastHitNs(e, report) ?? 0n;
  const left = e.idleTimeoutNs - since;
  return left > 0n ? left : 0n;
}

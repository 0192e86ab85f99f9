/**
 * 64-bit protobuf fields from `bigint`: a plain number when it is exact (protobufjs encodes it
 * directly, which is cheaper), otherwise a `Long`.
 */
import { toLong } from 'p4runtime-ts/proto';
import type Long from 'long';

const SAFE = 0x1fffffffffffffn;

/** A signed int64 field value. */
export function i64(v: bigint): number | Long {
  return v <= SAFE && v >= -SAFE ? Number(v) : toLong(v, true);
}

/** An unsigned uint64 field value. */
export function u64(v: bigint): number | Long {
  return v <= SAFE && v >= 0n ? Number(v) : toLong(v);
}

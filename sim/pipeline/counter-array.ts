/** An indirect (indexed) packets-and-bytes counter array, sized from the P4Info. */
export class CounterArray {
  private readonly bytes: BigInt64Array;
  private readonly packets: BigInt64Array;

  constructor(readonly size: number) {
    this.bytes = new BigInt64Array(size);
    this.packets = new BigInt64Array(size);
  }

  /** Cell `index` (caller checks the range). */
  get(index: number): { bytes: bigint; packets: bigint } {
    return { bytes: this.bytes[index] ?? 0n, packets: this.packets[index] ?? 0n };
  }

  /** Overwrites cell `index`. */
  set(index: number, bytes: bigint, packets: bigint): void {
    this.bytes[index] = bytes;
    this.packets[index] = packets;
  }

  /** Counts one packet of `byteCount` bytes in cell `index`. */
  count(index: number, byteCount: number): void {
    this.bytes[index] = (this.bytes[index] ?? 0n) + BigInt(byteCount);
    this.packets[index] = (this.packets[index] ?? 0n) + 1n;
  }

  /** A copy, for rollback and reconcile. */
  clone(): CounterArray {
    const c = new CounterArray(this.size);
    c.bytes.set(this.bytes);
    c.packets.set(this.packets);
    return c;
  }

  /** Copies the first min(sizes) cells of `other` into this array. */
  copyFrom(other: CounterArray): void {
    const n = Math.min(this.size, other.size);
    this.bytes.set(other.bytes.subarray(0, n));
    this.packets.set(other.packets.subarray(0, n));
  }
}

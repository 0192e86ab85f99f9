/**
 * A register array, sized and typed from the P4Info. Cells up to 64 bits live in a
 * BigUint64Array; wider cells in a plain array of bigint. Writes wrap modulo 2^W as P4 does.
 */
import { widthMask } from '../p4rt/bytestring.js';

/** One register array's cells. */
export class RegisterArray {
  private readonly narrow: BigUint64Array | null;
  private readonly wide: bigint[] | null;
  private readonly mask: bigint;

  constructor(
    readonly size: number,
    readonly bitwidth: number,
  ) {
    this.mask = widthMask(bitwidth);
    if (bitwidth <= 64) {
      this.narrow = new BigUint64Array(size);
      this.wide = null;
    } else {
      this.narrow = null;
      this.wide = new Array<bigint>(size).fill(0n);
    }
  }

  /** Cell `index` (caller checks the range). */
  get(index: number): bigint {
    return (this.narrow ? this.narrow[index] : this.wide?.[index]) ?? 0n;
  }

  /** Writes cell `index`, keeping the low `bitwidth` bits. */
  set(index: number, value: bigint): void {
    const v = value & this.mask;
    if (this.narrow) this.narrow[index] = v;
    else if (this.wide) this.wide[index] = v;
  }

  /** Sets every cell. */
  fill(value: bigint): void {
    const v = value & this.mask;
    if (this.narrow) this.narrow.fill(v);
    else this.wide?.fill(v);
  }

  /** A copy, for rollback and reconcile. */
  clone(): RegisterArray {
    const r = new RegisterArray(this.size, this.bitwidth);
    r.copyFrom(this);
    return r;
  }

  /** Copies the first min(sizes) cells of `other`, truncated to this width. */
  copyFrom(other: RegisterArray): void {
    const n = Math.min(this.size, other.size);
    for (let i = 0; i < n; i++) this.set(i, other.get(i));
  }
}

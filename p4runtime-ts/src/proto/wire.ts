/**
 * The protobuf wire format by hand, for the hot paths where building protobufjs objects costs
 * more than the encoding itself: table and register updates built by name, entries read back,
 * and (in the sim) register writes received. The
 * writer fills slabs shared by many messages and patches each length prefix when its message
 * ends; the reader walks a buffer without allocating. Everything else uses the protobufjs classes.
 */

/** Wire types (protobuf encoding spec). */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

/** The tag byte(s) of a field: (number << 3) | wire type. */
export const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/** Bytes of a fresh slab: one ArrayBuffer serves ~900 dyn_acl updates instead of one Buffer pool chunk per ~100. */
const SLAB_BYTES = 64 * 1024;

/**
 * Appends protobuf fields to a slab; `finish` hands out the message as a view of the slab and the
 * next message starts right after it. Finished messages are never written again: when a message
 * outgrows the slab, its bytes so far move to a fresh slab and the old one stays with the views
 * already handed out. Marks from `open` are relative to the message's start, so they survive
 * that move.
 */
export class WireWriter {
  private buf = new Uint8Array(SLAB_BYTES);
  /** Where the message being written starts. */
  private start = 0;
  private at = 0;

  /** Starts a new message (forgets what was written since the last `finish`). */
  reset(): void {
    this.at = this.start;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const used = this.at - this.start;
    const next = new Uint8Array(Math.max(SLAB_BYTES, (used + n) * 2));
    next.set(this.buf.subarray(this.start, this.at));
    this.buf = next;
    this.start = 0;
    this.at = used;
  }

  /** A varint of a non-negative safe integer. */
  varint(v: number): void {
    this.room(10);
    const b = this.buf;
    while (v > 0x7f) {
      b[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.at++] = v;
  }

  /** A varint of a 64-bit value given as bigint (two's complement for negatives, as int64). */
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    if (u <= 0x1f_ffff_ffff_ffffn) return this.varint(Number(u));
    this.room(10);
    while (u > 0x7fn) {
      this.buf[this.at++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.at++] = Number(u);
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** A length-delimited field holding `b`. */
  lenBytes(field: number, b: Uint8Array): void {
    this.varint(tag(field, LEN));
    this.varint(b.length);
    this.bytes(b);
  }

  /** A length-delimited field holding the canonical bytestring of `v` (a safe integer ≥ 0). */
  canonical(field: number, v: number): void {
    this.room(12);
    const b = this.buf;
    b[this.at++] = tag(field, LEN);
    if (v < 0x1_0000_0000) {
      const len = v < 0x100 ? 1 : v < 0x1_0000 ? 2 : v < 0x100_0000 ? 3 : 4;
      b[this.at++] = len;
      for (let i = len - 1; i >= 0; i--) b[this.at + i] = (v >>> ((len - 1 - i) * 8)) & 0xff;
      this.at += len;
      return;
    }
    let len = 4;
    while (len < 7 && v >= 2 ** (8 * len)) len++;
    b[this.at++] = len;
    for (let i = len - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) b[this.at + i] = x % 256;
    this.at += len;
  }

  /** Opens a length-delimited field; returns the mark `close` needs. One byte is reserved for the length. */
  open(field: number): number {
    const t = tag(field, LEN);
    if (t < 0x80) {
      // Fields 1..15, every one the hot paths open: tag and length byte in one bounds check.
      this.room(2);
      this.buf[this.at++] = t;
    } else {
      this.varint(t);
      this.room(1);
    }
    return this.at++ - this.start;
  }

  /** Closes the field opened at `mark`, writing its length (moving the body when it needs more than one byte). */
  close(mark: number): void {
    let at = this.start + mark;
    const len = this.at - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    let extra = 0;
    for (let n = len; n > 0x7f; n = Math.floor(n / 0x80)) extra++;
    this.room(extra);
    at = this.start + mark; // room() may have moved the message
    this.buf.copyWithin(at + 1 + extra, at + 1, this.at);
    this.at += extra;
    let n = len;
    while (n > 0x7f) {
      this.buf[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[at] = n;
  }

  /** The message written since `reset`, as a view of the slab (never written again); the next message starts after it. */
  finish(): Uint8Array {
    const out = this.buf.subarray(this.start, this.at);
    this.start = this.at;
    return out;
  }

  /**
   * Ends the message written since `reset` like `finish`, without making a view: it stays in
   * `slab` (read it right after this call) from the returned offset to the old `offset`.
   */
  seal(): number {
    const s = this.start;
    this.start = this.at;
    return s;
  }

  /** The slab being written (after `seal`: the one holding the sealed message). */
  get slab(): Uint8Array {
    return this.buf;
  }

  /** Where the next byte goes in `slab`. */
  get offset(): number {
    return this.at;
  }
}

/** Walks the fields of one message in a buffer. `field`/`wireType` describe the field just read by `next`. */
export class WireReader {
  field = 0;
  wireType = 0;
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** Reads the next tag; false at the end of the message. Throws on a truncated buffer. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const t = this.varint();
    this.field = Math.floor(t / 8);
    this.wireType = t & 7;
    return true;
  }

  /** A varint as a number (exact up to 2^53; callers that need 64 bits use `varint64`). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 63) throw new RangeError('varint longer than 10 bytes');
    }
  }

  /** A varint as a 64-bit bigint, signed (int64) when `signed`. */
  varint64(signed: boolean): bigint {
    const start = this.pos;
    const n = this.varint();
    if (n <= Number.MAX_SAFE_INTEGER) return BigInt(n);
    let u = 0n;
    let shift = 0n;
    for (let p = start; p < this.pos; p++, shift += 7n) u |= BigInt((this.buf[p] as number) & 0x7f) << shift;
    u = BigInt.asUintN(64, u);
    return signed ? BigInt.asIntN(64, u) : u;
  }

  /** The [start, end) of a length-delimited field's body; the reader moves past it. */
  span(): number {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new RangeError(`truncated length-delimited field: ${len} bytes at byte ${start} run past the end of its message (byte ${this.end})`);
    return start;
  }

  /** Skips the value of the field just read. */
  skip(): void {
    switch (this.wireType) {
      case VARINT:
        this.varint();
        return;
      case I64:
        this.pos += 8;
        break;
      case LEN:
        this.span();
        return;
      case I32:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${this.wireType}`);
    }
    if (this.pos > this.end) throw new RangeError('truncated field');
  }
}

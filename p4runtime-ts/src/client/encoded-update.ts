/**
 * An update encoded when it is built. A batch of them becomes a WriteRequest by concatenation,
 * and what stays alive between building and writing is one object and one small buffer per
 * update instead of a tree of a dozen objects — the garbage collector's work, not the encoding,
 * is what a large write spends most on. `entity` decodes on demand (error descriptions, callers
 * that inspect an update), so an EncodedUpdate is still a `p4.v1.Update` in every respect.
 */
import { p4 } from '../proto/index.js';

/** A `p4.v1.Update` carried as its wire encoding. */
export class EncodedUpdate implements p4.v1.Update.$Properties {
  readonly type: p4.v1.Update.Type;
  /** The Update message's encoding (without tag and length). */
  readonly bytes: Uint8Array;

  /** Encodes `update`, or takes `encoded` as its encoding when the caller wrote it already. */
  constructor(update: p4.v1.Update.$Properties, encoded?: Uint8Array) {
    this.type = update.type ?? p4.v1.Update.Type.UNSPECIFIED;
    this.bytes = encoded ?? p4.v1.Update.encode(update).finish();
  }

  /** The entity, decoded from the bytes. */
  get entity(): p4.v1.Entity.$Properties | null {
    return p4.v1.Update.decode(this.bytes).entity ?? null;
  }
}

/** WriteRequest.updates is field 4, length-delimited: tag (4 << 3) | 2. */
const UPDATES_TAG = 0x22;

/**
 * The encoding of a WriteRequest: `head` (its other fields, encoded once) followed by each
 * update as a length-delimited field 4 — protobuf allows fields in any order.
 */
export function concatWriteRequest(head: Uint8Array, updates: readonly EncodedUpdate[]): Uint8Array {
  let size = head.length;
  for (const u of updates) size += 1 + varintLength(u.bytes.length) + u.bytes.length;
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  for (const u of updates) {
    out[at++] = UPDATES_TAG;
    let n = u.bytes.length;
    while (n > 0x7f) {
      out[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[at++] = n;
    out.set(u.bytes, at);
    at += u.bytes.length;
  }
  return out;
}

function varintLength(n: number): number {
  let len = 1;
  while (n > 0x7f) {
    n >>>= 7;
    len++;
  }
  return len;
}

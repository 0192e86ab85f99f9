/**
 * An update encoded when it is built. It is kept exactly as it will appear in a WriteRequest —
 * the `updates` field's tag and length, then the Update message — inside a slab shared with the
 * updates built before and after it, so a batch of them becomes a WriteRequest by copying
 * contiguous runs of a slab (one copy for updates built one after another), and what stays alive
 * between building and writing is one small object per update: no view, no buffer, no tree of a
 * dozen protobuf objects. The garbage collector's work, not the encoding, is what a large write
 * spends most on. `entity` decodes on demand (error descriptions, callers that inspect an update),
 * so an EncodedUpdate is still a `p4.v1.Update` in every respect.
 */
import { p4 } from '../proto/index.js';
import { keepShape } from './shape-keeper.js';

/** A `p4.v1.Update` carried as its wire encoding, framed as a WriteRequest `updates` field. */
export class EncodedUpdate implements p4.v1.Update.$Properties {
  /**
   * `slab[start, end)` holds the field: tag, length, Update message. The slab is never written
   * there again (WireWriter hands out finished ranges only).
   */
  constructor(
    readonly type: p4.v1.Update.Type,
    readonly slab: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  /** Encodes `update` through protobufjs (the general path: anything the compiled encoders leave). */
  static of(update: p4.v1.Update.$Properties): EncodedUpdate {
    // A WriteRequest holding only this update is exactly its framed field.
    const framed = p4.v1.WriteRequest.encode({ updates: [update] }).finish();
    return new EncodedUpdate(update.type ?? p4.v1.Update.Type.UNSPECIFIED, framed, 0, framed.length);
  }

  /** The Update message's encoding (without tag and length), as a view of the slab. */
  get bytes(): Uint8Array {
    let at = this.start + 1;
    while ((this.slab[at] as number) & 0x80) at++;
    return this.slab.subarray(at + 1, this.end);
  }

  /** The entity, decoded from the bytes. */
  get entity(): p4.v1.Entity.$Properties | null {
    return p4.v1.Update.decode(this.bytes).entity ?? null;
  }
}

// Every EncodedUpdate of a write dies with it: without one kept, the optimized code of the
// register encoder and of concatWriteRequest is discarded between writes (shape-keeper.ts).
keepShape(new EncodedUpdate(p4.v1.Update.Type.UNSPECIFIED, new Uint8Array(0), 0, 0));

/**
 * The encoding of a WriteRequest: `head` (its other fields, encoded once) followed by each
 * update's framed field — protobuf allows fields in any order. Updates that sit one after
 * another in the same slab are copied as one run.
 */
export function concatWriteRequest(head: Uint8Array, updates: readonly EncodedUpdate[]): Uint8Array {
  let size = head.length;
  for (const u of updates) size += u.end - u.start;
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  let i = 0;
  while (i < updates.length) {
    const first = updates[i] as EncodedUpdate;
    let end = first.end;
    for (i++; i < updates.length; i++) {
      const u = updates[i] as EncodedUpdate;
      if (u.slab !== first.slab || u.start !== end) break;
      end = u.end;
    }
    out.set(first.start === 0 && end === first.slab.length ? first.slab : first.slab.subarray(first.start, end), at);
    at += end - first.start;
  }
  return out;
}

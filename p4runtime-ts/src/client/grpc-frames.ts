/**
 * gRPC's length-prefixed messages on an HTTP/2 stream (grpc/PROTOCOL-HTTP2.md, "Length-Prefixed-Message"):
 * one byte Compressed-Flag, a four-byte big-endian Message-Length, then the message. Pure code: the
 * transport hands DATA chunks in and gets whole messages out, however the chunks were cut.
 */
import { gunzipSync, inflateSync } from 'node:zlib';

/** Bytes of the prefix before each message. */
export const FRAME_PREFIX_BYTES = 5;

/** One message with its prefix, uncompressed, as one Buffer ready for `stream.write`. */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, FRAME_PREFIX_BYTES);
  return out;
}

/** Why a deframer stopped: what the gRPC status of the call becomes. */
export class FrameError extends Error {
  /** `RESOURCE_EXHAUSTED` (8) for an over-long message, `INTERNAL` (13) for a malformed one. */
  readonly grpcCode: number;
  constructor(grpcCode: number, message: string) {
    super(message);
    this.name = 'FrameError';
    this.grpcCode = grpcCode;
  }
}

/**
 * Collects DATA chunks and returns each complete message once. Copies only when a message spans
 * chunks; a message inside one chunk comes back as a view of it.
 * @example
 * const d = new MessageDeframer(4 << 20, 'identity');
 * stream.on('data', (chunk) => { for (const m of d.push(chunk)) onMessage(m); });
 */
export class MessageDeframer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `maxMessageBytes` bounds each message; `encoding` is the response's `grpc-encoding` header. */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly encoding: string = 'identity',
  ) {}

  /** Bytes held that do not yet make a whole message (0 at a clean end of stream). */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Adds one chunk; returns the messages it completed (throws FrameError on a bad one). */
  push(chunk: Buffer): Buffer[] {
    let buf: Buffer;
    if (this.pendingBytes === 0) buf = chunk;
    else {
      this.pending.push(chunk);
      buf = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const out: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= FRAME_PREFIX_BYTES) {
      const flag = buf[at] as number;
      const len = buf.readUInt32BE(at + 1);
      if (len > this.maxMessageBytes) {
        throw new FrameError(8, `received message larger than max (${len} vs. ${this.maxMessageBytes})`);
      }
      if (buf.length - at - FRAME_PREFIX_BYTES < len) break;
      const body = buf.subarray(at + FRAME_PREFIX_BYTES, at + FRAME_PREFIX_BYTES + len);
      out.push(flag === 0 ? body : this.decompress(flag, body));
      at += FRAME_PREFIX_BYTES + len;
    }
    if (at < buf.length) {
      const rest = buf.subarray(at);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return out;
  }

  private decompress(flag: number, body: Buffer): Buffer {
    if (flag !== 1) throw new FrameError(13, `invalid compressed-flag byte ${flag} in a message prefix (expected 0 or 1)`);
    let out: Buffer;
    try {
      if (this.encoding === 'gzip') out = gunzipSync(body, { maxOutputLength: this.maxMessageBytes });
      else if (this.encoding === 'deflate') out = inflateSync(body, { maxOutputLength: this.maxMessageBytes });
      else throw new FrameError(13, `compressed message with grpc-encoding '${this.encoding}', which this client does not decode (it asks for identity)`);
    } catch (e) {
      if (e instanceof FrameError) throw e;
      if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new FrameError(8, `decompressed message larger than max (${this.maxMessageBytes})`);
      throw new FrameError(13, `cannot decompress a ${this.encoding} message: ${(e as Error).message}`);
    }
    return out;
  }
}

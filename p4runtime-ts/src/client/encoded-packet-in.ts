/**
 * Packet-ins kept as their wire encoding until StreamMessages decodes them by name: an in-band
 * client receives one per request, and protobufjs would build a PacketIn, a PacketMetadata and a
 * buffer view per metadata field only for them to be turned into a record and dropped. The
 * stream's deserializer hands a packet-in on as `{ packet: EncodedPacketIn }`; every other
 * message is decoded by protobufjs as before. An EncodedPacketIn is still a `p4.v1.PacketIn` in
 * every respect: `payload` and `metadata` decode on demand.
 */
import { p4 } from '../proto/index.js';
import { keepShape } from './shape-keeper.js';

/** StreamMessageResponse.packet is field 2, length-delimited: tag (2 << 3) | 2. */
const PACKET_TAG = 0x12;

/** A PacketIn carried as `buf[start, end)`, its encoding. */
export class EncodedPacketIn implements p4.v1.PacketIn.$Properties {
  constructor(
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  private decoded(): p4.v1.PacketIn {
    return p4.v1.PacketIn.decode(this.buf.subarray(this.start, this.end));
  }

  /** The payload, decoded from the bytes. */
  get payload(): Uint8Array {
    return this.decoded().payload;
  }

  /** The metadata as protobuf objects, decoded from the bytes. */
  get metadata(): p4.v1.PacketMetadata.$Properties[] {
    return this.decoded().metadata;
  }
}

// In-band answers arrive one by one and die at once: keep the class's map (shape-keeper.ts).
keepShape(new EncodedPacketIn(new Uint8Array(0), 0, 0));

/**
 * Decodes one StreamMessageResponse: a message that is exactly one packet-in (field 2 spanning
 * the buffer, as every target sends it) becomes `{ packet: EncodedPacketIn }`; anything else is
 * decoded by protobufjs.
 */
export function decodeStreamResponse(buf: Buffer): p4.v1.StreamMessageResponse {
  if (buf.length > 1 && buf[0] === PACKET_TAG) {
    // The length varint (at most 5 bytes for a message length) after the one-byte tag.
    let len = 0;
    let scale = 1;
    for (let at = 1; at < buf.length && at <= 5; at++) {
      const b = buf[at] as number;
      len += (b & 0x7f) * scale;
      scale *= 0x80;
      if (b >= 0x80) continue;
      if (at + 1 + len === buf.length) return { packet: new EncodedPacketIn(buf, at + 1, buf.length) } as unknown as p4.v1.StreamMessageResponse;
      break;
    }
  }
  return p4.v1.StreamMessageResponse.decode(buf);
}

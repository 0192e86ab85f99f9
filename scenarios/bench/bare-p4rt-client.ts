/**
 * The bare baseline of `bench p4rt`: @grpc/grpc-js with protobufjs and nothing else — requests
 * built as protobuf objects by id and encoded by protobufjs, responses decoded to protobuf objects.
 * It knows nothing of names, widths or errors; it is what p4runtime-ts is measured against.
 */
import * as grpc from '@grpc/grpc-js';
import { p4, toLong } from 'p4runtime-ts/proto';

/** The shortest big-endian bytes of a non-negative number (P4Runtime's canonical bytestring). */
export function canonicalBytes(v: number): Uint8Array {
  if (v === 0) return Uint8Array.of(0);
  const bytes: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Uint8Array.from(bytes);
}

/** A bare client on one channel. */
export class BareP4rtClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 << 20 });
  }

  /** Encodes a WriteRequest of ready Update objects (protobufjs). */
  static encodeWrite(deviceId: bigint, electionId: bigint, updates: p4.v1.Update.$Properties[]): Buffer {
    const req = p4.v1.WriteRequest.create({
      deviceId: toLong(deviceId),
      electionId: { high: toLong(electionId >> 64n), low: toLong(electionId & 0xffff_ffff_ffff_ffffn) },
      updates,
    });
    const bytes = p4.v1.WriteRequest.encode(req).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Sends one pre-encoded WriteRequest. */
  write(request: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>('/p4.v1.P4Runtime/Write', (b) => b, (b) => b, request, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Reads with a pre-encoded ReadRequest, decoding every response to protobuf objects; returns how many table entries came back. */
  async readTableEntries(request: Buffer): Promise<number> {
    const call = this.client.makeServerStreamRequest<Buffer, p4.v1.ReadResponse>('/p4.v1.P4Runtime/Read', (b) => b, (b) => p4.v1.ReadResponse.decode(b), request);
    let count = 0;
    for await (const res of call as AsyncIterable<p4.v1.ReadResponse>) for (const e of res.entities) if (e.tableEntry) count++;
    return count;
  }

  /** Encodes a wildcard ReadRequest for every entry of one table. */
  static encodeTableRead(deviceId: bigint, tableId: number): Buffer {
    const bytes = p4.v1.ReadRequest.encode({ deviceId: toLong(deviceId), entities: [{ tableEntry: { tableId } }] }).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

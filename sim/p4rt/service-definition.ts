/**
 * The `p4.v1.P4Runtime` gRPC service as grpc-js needs it, with our generated protobufjs codecs as
 * serializers. Request deserializers never throw: a malformed message reaches the handler as a
 * `Decoded` failure, so the switch can answer INVALID_ARGUMENT naming the problem (grpc-js itself
 * would answer INTERNAL).
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { p4 } from 'p4runtime-ts/proto';
import { decodeReadRequest } from './read-request-decoding.js';
import { encodeReadResponse } from './read-response-encoding.js';
import { decodeWriteRequest } from './write-request-decoding.js';

/** A request as the handler receives it: decoded, or the reason it could not be. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly size: number };

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/** The fully qualified method paths of the service. */
export const P4RUNTIME_PATHS = {
  Write: '/p4.v1.P4Runtime/Write',
  Read: '/p4.v1.P4Runtime/Read',
  SetForwardingPipelineConfig: '/p4.v1.P4Runtime/SetForwardingPipelineConfig',
  GetForwardingPipelineConfig: '/p4.v1.P4Runtime/GetForwardingPipelineConfig',
  StreamChannel: '/p4.v1.P4Runtime/StreamChannel',
  Capabilities: '/p4.v1.P4Runtime/Capabilities',
} as const;

/** The name of one P4Runtime RPC. */
export type P4RuntimeMethod = keyof typeof P4RUNTIME_PATHS;

/** Every RPC name, in declaration order. */
export const P4RUNTIME_METHODS = Object.keys(P4RUNTIME_PATHS) as readonly P4RuntimeMethod[];

function safeDecoder<T>(codec: Codec<T>, what: string): (buf: Buffer) => Decoded<T> {
  return (buf) => {
    try {
      return { ok: true, value: codec.decode(buf) };
    } catch (e) {
      return { ok: false, size: buf.length, error: `malformed ${what} (${buf.length} bytes): ${e instanceof Error ? e.message : String(e)}` };
    }
  };
}

const encoder =
  <T>(codec: Codec<T>) =>
  (message: T): Buffer => {
    const bytes = codec.encode(message).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };

function method<Req, Res>(
  path: string,
  requestStream: boolean,
  responseStream: boolean,
  req: Codec<Req>,
  res: Codec<Res>,
  reqName: string,
): MethodDefinition<Decoded<Req>, Res> {
  return {
    path,
    requestStream,
    responseStream,
    // Only used by clients; the server never serializes requests.
    requestSerialize: (d: Decoded<Req>) => (d.ok ? encoder(req)(d.value) : Buffer.alloc(0)),
    requestDeserialize: safeDecoder(req, reqName),
    responseSerialize: encoder(res),
    responseDeserialize: (buf: Buffer) => res.decode(buf),
  };
}

/** The server-side service definition. */
export const P4RUNTIME_SERVICE = {
  // Register cells written by the hundred: read by hand (write-request-decoding.ts).
  Write: method(P4RUNTIME_PATHS.Write, false, false, { encode: (m: p4.v1.WriteRequest) => p4.v1.WriteRequest.encode(m), decode: decodeWriteRequest }, p4.v1.WriteResponse, 'WriteRequest'),
  // Register cells queried and answered by the thousand: read by hand (read-request-decoding.ts)
  // and written by hand (read-response-encoding.ts).
  Read: {
    ...method(P4RUNTIME_PATHS.Read, false, true, { encode: (m: p4.v1.ReadRequest) => p4.v1.ReadRequest.encode(m), decode: decodeReadRequest }, p4.v1.ReadResponse, 'ReadRequest'),
    responseSerialize: encodeReadResponse,
  },
  SetForwardingPipelineConfig: method(
    P4RUNTIME_PATHS.SetForwardingPipelineConfig, false, false,
    p4.v1.SetForwardingPipelineConfigRequest, p4.v1.SetForwardingPipelineConfigResponse, 'SetForwardingPipelineConfigRequest',
  ),
  GetForwardingPipelineConfig: method(
    P4RUNTIME_PATHS.GetForwardingPipelineConfig, false, false,
    p4.v1.GetForwardingPipelineConfigRequest, p4.v1.GetForwardingPipelineConfigResponse, 'GetForwardingPipelineConfigRequest',
  ),
  StreamChannel: method(P4RUNTIME_PATHS.StreamChannel, true, true, p4.v1.StreamMessageRequest, p4.v1.StreamMessageResponse, 'StreamMessageRequest'),
  Capabilities: method(P4RUNTIME_PATHS.Capabilities, false, false, p4.v1.CapabilitiesRequest, p4.v1.CapabilitiesResponse, 'CapabilitiesRequest'),
} satisfies ServiceDefinition;

/**
 * The `p4.v1.P4Runtime` gRPC service described for @grpc/grpc-js, with the protobufjs static code
 * as (de)serializers. Shared by the client transport and by servers (the test double, the sim), so
 * method paths and message types are written down once.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { p4 } from '../proto/index.js';

/** Encodes with protobufjs and hands grpc-js the Buffer it requires (no copy when already one). */
function serializer<T>(encode: (m: T) => { finish(): Uint8Array }): (m: T) => Buffer {
  return (m) => {
    const bytes = encode(m).finish();
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function method<Req, Res>(
  name: string,
  requestStream: boolean,
  responseStream: boolean,
  req: { encode(m: Req): { finish(): Uint8Array }; decode(b: Uint8Array): Req },
  res: { encode(m: Res): { finish(): Uint8Array }; decode(b: Uint8Array): Res },
) {
  return {
    path: `/p4.v1.P4Runtime/${name}`,
    requestStream,
    responseStream,
    originalName: name,
    requestSerialize: serializer<Req>((m) => req.encode(m)),
    requestDeserialize: (b: Buffer): Req => req.decode(b),
    responseSerialize: serializer<Res>((m) => res.encode(m)),
    responseDeserialize: (b: Buffer): Res => res.decode(b),
  };
}

type WriteReq = p4.v1.WriteRequest.$Properties;
type ReadReq = p4.v1.ReadRequest.$Properties;
type SetReq = p4.v1.SetForwardingPipelineConfigRequest.$Properties;
type GetReq = p4.v1.GetForwardingPipelineConfigRequest.$Properties;
type StreamReq = p4.v1.StreamMessageRequest.$Properties;
type StreamRes = p4.v1.StreamMessageResponse.$Properties;
type CapsReq = p4.v1.CapabilitiesRequest.$Properties;
type CapsRes = p4.v1.CapabilitiesResponse.$Properties;

/**
 * The P4Runtime service definition. Requests and responses are typed as protobufjs `$Properties`
 * (plain objects encode; decoding yields message instances, which satisfy the same shape).
 */
export const P4RUNTIME_SERVICE = {
  Write: method<WriteReq, p4.v1.WriteResponse.$Properties>('Write', false, false, p4.v1.WriteRequest, p4.v1.WriteResponse),
  Read: method<ReadReq, p4.v1.ReadResponse.$Properties>('Read', false, true, p4.v1.ReadRequest, p4.v1.ReadResponse),
  SetForwardingPipelineConfig: method<SetReq, p4.v1.SetForwardingPipelineConfigResponse.$Properties>(
    'SetForwardingPipelineConfig', false, false, p4.v1.SetForwardingPipelineConfigRequest, p4.v1.SetForwardingPipelineConfigResponse),
  GetForwardingPipelineConfig: method<GetReq, p4.v1.GetForwardingPipelineConfigResponse.$Properties>(
    'GetForwardingPipelineConfig', false, false, p4.v1.GetForwardingPipelineConfigRequest, p4.v1.GetForwardingPipelineConfigResponse),
  StreamChannel: method<StreamReq, StreamRes>('StreamChannel', true, true, p4.v1.StreamMessageRequest, p4.v1.StreamMessageResponse),
  Capabilities: method<CapsReq, CapsRes>('Capabilities', false, false, p4.v1.CapabilitiesRequest, p4.v1.CapabilitiesResponse),
} as const;

/** The same definition typed for `grpc.Server.addService`. */
export const P4RUNTIME_SERVICE_DEFINITION = P4RUNTIME_SERVICE as unknown as ServiceDefinition;

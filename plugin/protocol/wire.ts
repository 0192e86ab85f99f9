/**
 * The migration protocol's message types (protobufjs reflection over the descriptor generated
 * from migration.proto) and its gRPC service definition. Request deserializers never throw: a
 * message that does not decode reaches the handler as a `Decoded` failure, so the server answers
 * with the reason instead of grpc-js's bare INTERNAL.
 */
import { readFileSync } from 'node:fs';
import type { MethodDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';

/** The protobuf package of this protocol version. */
export const MIGRATION_PACKAGE = 'carryover.migration.v1';
/** The protocol version peers report in capabilities. */
export const PROTOCOL_VERSION = 1;

// The descriptor is a JSON asset beside this module (the build copies it), not code.
const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(new URL('./gen/migration.json', import.meta.url), 'utf8')) as protobuf.INamespace);

/** A message of the protocol as plain data (what the codecs build and read). */
export type WireMessage = Record<string, unknown>;

/** A request as the handler receives it: decoded, or the reason it could not be. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** The protobufjs type of a message of this package. */
export function wireType(name: string): protobuf.Type {
  return root.lookupType(`${MIGRATION_PACKAGE}.${name}`);
}

/** Encodes plain data as message `name`. */
export function encodeWire(name: string, value: WireMessage): Buffer {
  const t = wireType(name);
  const bytes = t.encode(t.fromObject(value)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes message `name` to plain data: defaults filled, 64-bit integers as decimal strings. */
export function decodeWire(name: string, bytes: Uint8Array): WireMessage {
  const t = wireType(name);
  return t.toObject(t.decode(bytes), { defaults: true, longs: String, arrays: true, objects: true }) as WireMessage;
}

const METHODS = {
  Capabilities: ['CapabilitiesRequest', 'Capabilities', false],
  Prepare: ['MigrationCall', 'Ack', false],
  ExportSnapshot: ['MigrationCall', 'StateBatch', false],
  ExportDeltas: ['MigrationCall', 'StateBatch', true],
  ImportStaged: ['ImportRequest', 'ImportResult', false],
  Freeze: ['MigrationCall', 'Ack', false],
  FinalDelta: ['FinalDeltaRequest', 'StateBatch', false],
  Activate: ['MigrationCall', 'Ack', false],
  DeleteAtSource: ['DeleteRequest', 'DeleteResult', false],
  Abort: ['MigrationCall', 'Ack', false],
} as const;

/** The name of one RPC of the service. */
export type MigrationMethod = keyof typeof METHODS;

/** Every RPC, in declaration order. */
export const MIGRATION_METHODS = Object.keys(METHODS) as readonly MigrationMethod[];

/** The fully qualified path of an RPC. */
export const methodPath = (m: MigrationMethod): string => `/${MIGRATION_PACKAGE}.Migration/${m}`;

/** Whether an RPC streams its answer. */
export const isStreaming = (m: MigrationMethod): boolean => METHODS[m][2];

/** The request and response type names of an RPC. */
export const methodTypes = (m: MigrationMethod): { readonly request: string; readonly response: string } => ({ request: METHODS[m][0], response: METHODS[m][1] });

function safeDecoder(name: string): (buf: Buffer) => Decoded<WireMessage> {
  return (buf) => {
    try {
      return { ok: true, value: decodeWire(name, buf) };
    } catch (e) {
      return { ok: false, error: `malformed ${name} (${buf.length} bytes): ${e instanceof Error ? e.message : String(e)}` };
    }
  };
}

/** The service as grpc-js serves it (requests decoded safely, responses encoded from plain data). */
export const MIGRATION_SERVICE: Record<MigrationMethod, MethodDefinition<Decoded<WireMessage>, WireMessage>> = Object.fromEntries(
  MIGRATION_METHODS.map((m) => {
    const { request, response } = methodTypes(m);
    const def: MethodDefinition<Decoded<WireMessage>, WireMessage> = {
      path: methodPath(m),
      requestStream: false,
      responseStream: isStreaming(m),
      requestSerialize: (d) => (d.ok ? encodeWire(request, d.value) : Buffer.alloc(0)),
      requestDeserialize: safeDecoder(request),
      responseSerialize: (v) => encodeWire(response, v),
      responseDeserialize: (b) => decodeWire(response, b),
    };
    return [m, def];
  }),
) as Record<MigrationMethod, MethodDefinition<Decoded<WireMessage>, WireMessage>>;

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

/** A message of the protocol as plain data (what the codecs build and read). */
export type WireMessage = Record<string, unknown>;

/** A request as the handler receives it: decoded, or the reason it could not be. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Encoding, decoding and gRPC method definitions over one protobuf descriptor (JSON). */
export interface WireCodec {
  /** Encodes plain data as message `name` of the package. */
  encode(name: string, value: WireMessage): Buffer;
  /** Decodes message `name` to plain data: defaults filled, 64-bit integers as decimal strings. */
  decode(name: string, bytes: Uint8Array): WireMessage;
  /**
   * grpc-js method definitions of `service` (requests decoded safely — a message that does not
   * decode reaches the handler as a `Decoded` failure — responses encoded from plain data).
   */
  service<M extends string>(service: string, methods: Readonly<Record<M, readonly [request: string, response: string, streaming: boolean]>>): Record<M, MethodDefinition<Decoded<WireMessage>, WireMessage>>;
}

/** A WireCodec for package `pkg` of the descriptor read from `url` (a JSON asset the build copies). */
export function wireCodec(url: URL, pkg: string): WireCodec {
  const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(url, 'utf8')) as protobuf.INamespace);
  // protobufjs generates a type's codecs on its first use: done here, at start, so a message type
  // first seen inside a pause (Freeze, FinalDelta, Activate) does not pay for it there.
  setupTypes(root);
  const type = (name: string): protobuf.Type => root.lookupType(`${pkg}.${name}`);
  const encode = (name: string, value: WireMessage): Buffer => {
    const t = type(name);
    const bytes = t.encode(t.fromObject(value)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const decode = (name: string, bytes: Uint8Array): WireMessage => {
    const t = type(name);
    return t.toObject(t.decode(bytes), { defaults: true, longs: String, arrays: true, objects: true }) as WireMessage;
  };
  const safe = (name: string) => (buf: Buffer): Decoded<WireMessage> => {
    try {
      return { ok: true, value: decode(name, buf) };
    } catch (e) {
      return { ok: false, error: `malformed ${name} (${buf.length} bytes): ${e instanceof Error ? e.message : String(e)}` };
    }
  };
  function service<M extends string>(svc: string, methods: Readonly<Record<M, readonly [string, string, boolean]>>): Record<M, MethodDefinition<Decoded<WireMessage>, WireMessage>> {
    const defs = (Object.entries(methods) as [M, readonly [string, string, boolean]][]).map(([m, [request, response, streaming]]) => {
      const def: MethodDefinition<Decoded<WireMessage>, WireMessage> = {
        path: `/${pkg}.${svc}/${m}`,
        requestStream: false,
        responseStream: streaming,
        requestSerialize: (d) => (d.ok ? encode(request, d.value) : Buffer.alloc(0)),
        requestDeserialize: safe(request),
        responseSerialize: (v) => encode(response, v),
        responseDeserialize: (b) => decode(response, b),
      };
      return [m, def] as const;
    });
    return Object.fromEntries(defs) as Record<M, MethodDefinition<Decoded<WireMessage>, WireMessage>>;
  }
  return { encode, decode, service };
}

const codec = wireCodec(new URL('./gen/migration.json', import.meta.url), MIGRATION_PACKAGE);

/** Encodes plain data as message `name`. */
export const encodeWire = (name: string, value: WireMessage): Buffer => codec.encode(name, value);

/** Decodes message `name` to plain data: defaults filled, 64-bit integers as decimal strings. */
export const decodeWire = (name: string, bytes: Uint8Array): WireMessage => codec.decode(name, bytes);

const METHODS = {
  Capabilities: ['CapabilitiesRequest', 'Capabilities', false],
  Prepare: ['MigrationCall', 'Ack', false],
  ExportSnapshot: ['MigrationCall', 'StateBatch', false],
  ExportDeltas: ['MigrationCall', 'StateBatch', true],
  ImportStaged: ['ImportRequest', 'ImportResult', false],
  Freeze: ['MigrationCall', 'Ack', false],
  PauseDelta: ['FinalDeltaRequest', 'StateBatch', false],
  FinalDelta: ['FinalDeltaRequest', 'StateBatch', false],
  Activate: ['MigrationCall', 'Ack', false],
  DeleteAtSource: ['DeleteRequest', 'DeleteResult', false],
  Abort: ['MigrationCall', 'Ack', false],
  FreezeFinal: ['FinalDeltaRequest', 'StateBatch', false],
  ImportActivate: ['ImportRequest', 'ImportResult', false],
  Transfer: ['TransferRequest', 'TransferProgress', true],
  Committed: ['MigrationCall', 'Ack', false],
  Footprint: ['FootprintRequest', 'VmFootprint', false],
  RenewTicket: ['MigrationCall', 'Ack', false],
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

/** The service as grpc-js serves it (requests decoded safely, responses encoded from plain data). */
export const MIGRATION_SERVICE: Record<MigrationMethod, MethodDefinition<Decoded<WireMessage>, WireMessage>> = codec.service('Migration', METHODS);

/** Generates every message type's codecs under `ns` now (protobufjs would on first use). */
function setupTypes(ns: protobuf.NamespaceBase): void {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) o.setup();
    if (o instanceof protobuf.Namespace) setupTypes(o);
  }
}

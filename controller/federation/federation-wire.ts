/**
 * The federation service's messages and gRPC definition (protobufjs reflection over the committed
 * descriptor of federation.proto, which imports the migration protocol's StateBatch, Capabilities
 * and Ticket — so those travel between controllers exactly as between controller and plugin, and
 * the plugin's codecs read them).
 */
import { wireCodec } from '../../plugin/index.js';

/** The protobuf package of this version of the service. */
export const FEDERATION_PACKAGE = 'carryover.federation.v1';
/** The version peers exchange in Propose. */
export const FEDERATION_VERSION = 1;

const codec = wireCodec(new URL('./gen/federation.json', import.meta.url), FEDERATION_PACKAGE);

const METHODS = {
  Propose: ['ProposeRequest', 'ProposeResponse', false],
  Agree: ['AgreeRequest', 'AgreeResponse', false],
  Prepare: ['DomainCall', 'Ack', false],
  Stage: ['StageRequest', 'StageResult', false],
  Commit: ['CommitRequest', 'CommitResult', false],
  Finish: ['FinishRequest', 'Ack', false],
  Abort: ['AbortRequest', 'Ack', false],
  Footprint: ['FootprintCall', 'DomainFootprint', false],
  Check: ['CheckRequest', 'CheckResponse', false],
  Status: ['DomainCall', 'MigrationStatus', false],
} as const;

/** One RPC of the service. */
export type FederationMethod = keyof typeof METHODS;

/** Every RPC, in declaration order. */
export const FEDERATION_METHODS = Object.keys(METHODS) as readonly FederationMethod[];

/** The service as grpc-js serves and calls it. */
export const FEDERATION_SERVICE = codec.service('Federation', METHODS);

/** The request and response message names of an RPC. */
export const federationTypes = (m: FederationMethod): { readonly request: string; readonly response: string } => ({ request: METHODS[m][0], response: METHODS[m][1] });

/** Encodes plain data as a federation message. */
export const encodeFederation = codec.encode;
/** Decodes a federation message to plain data. */
export const decodeFederation = codec.decode;

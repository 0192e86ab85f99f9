import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ControllerError, FAILURE_REASONS } from '../errors.js';
import { federationFailure, federationStatus } from './federation-status.js';
import { FEDERATION_METHODS, FEDERATION_PACKAGE, FEDERATION_SERVICE, decodeFederation, encodeFederation } from './federation-wire.js';

const here = dirname(fileURLToPath(import.meta.url));

/** federation.proto with the migration protocol it imports, as protobufjs reads them. */
function loadProto(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target === 'migration.proto' ? join(here, '..', '..', 'plugin', 'protocol', 'migration.proto') : target);
  return root.loadSync(join(here, 'federation.proto'), { keepCase: false });
}

describe('federation wire — the committed descriptor and the service', () => {
  it('federation wire — gen/federation.json is current with federation.proto (run node controller/federation/gen-proto.mjs)', () => {
    const committed = JSON.parse(readFileSync(join(here, 'gen', 'federation.json'), 'utf8')) as unknown;
    expect(committed).toEqual(loadProto().toJSON());
  });

  it('federation wire — every RPC has a definition under carryover.federation.v1, none streams', () => {
    const svc = loadProto().lookupService(`${FEDERATION_PACKAGE}.Federation`);
    expect(Object.keys(svc.methods)).toEqual([...FEDERATION_METHODS]);
    expect(FEDERATION_METHODS.filter((m) => FEDERATION_SERVICE[m].responseStream)).toEqual([]);
    expect(FEDERATION_SERVICE.Commit.path).toBe('/carryover.federation.v1.Federation/Commit');
  });

  it('federation wire — a migration-protocol StateBatch travels inside a Commit unchanged', () => {
    const batch = { migrationId: 'm1', round: 99, slots: [{ fields: [{ name: 'state', value: Buffer.from([3]) }] }], coversFrom: Buffer.from([1]), coversTo: Buffer.from([9]), source: 'edge-a' };
    const back = decodeFederation('CommitRequest', encodeFederation('CommitRequest', { ref: { migrationId: 'm1', vm: '10.0.0.5' }, finalBatches: [batch] }));
    expect(back).toMatchObject({ ref: { migrationId: 'm1', vm: '10.0.0.5' }, finalBatches: [{ migrationId: 'm1', round: 99, source: 'edge-a' }] });
  });

  it('federation wire — a request that does not decode reaches the handler as a failure, not an exception', () => {
    expect(FEDERATION_SERVICE.Stage.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff]))).toMatchObject({ ok: false, error: expect.stringMatching(/malformed StageRequest \(4 bytes\)/) as unknown });
  });
});

describe('federation status — reasons both ways', () => {
  it.each(FAILURE_REASONS)('federation status — %s leaves one controller and arrives at the other word for word', (reason) => {
    const s = federationStatus(new ControllerError(reason, 'what happened'), 'domain dc-b: Commit');
    const back = federationFailure(s, 'peer domain dc-b: Commit');
    // The peer's own "domain dc-b: Commit:" is not said twice.
    expect(back).toMatchObject({ code: reason, message: 'peer domain dc-b: Commit: what happened' });
  });

  it('federation status — a controller fault reaches the peer as PEER_REJECTED, not as a fault of the peer', () => {
    const s = federationStatus(new ControllerError('JOURNAL', 'disk full'), 'domain dc-b: Agree');
    expect(federationFailure(s, 'x').code).toBe('PEER_REJECTED');
  });

  it('federation status — an empty "Resolution note:" that grpc-js leaves at the end is not passed on', () => {
    const e: ServiceError = Object.assign(new Error('x'), { code: GrpcStatus.UNAVAILABLE, details: 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ', metadata: new Metadata() });
    expect(federationFailure(e, 'peer domain dc-b: Propose').message).toBe('peer domain dc-b: Propose: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1. (gRPC UNAVAILABLE)');
  });

  it('federation status — transport failures without a reason: unreachable, and a passed deadline as the caller says', () => {
    const err = (code: GrpcStatus): ServiceError => Object.assign(new Error('boom'), { code, details: 'boom', metadata: new Metadata() });
    expect(federationFailure(err(GrpcStatus.UNAVAILABLE), 'x').code).toBe('DEVICE_UNREACHABLE');
    expect(federationFailure(err(GrpcStatus.DEADLINE_EXCEEDED), 'x').code).toBe('DEVICE_UNREACHABLE');
    expect(federationFailure(err(GrpcStatus.DEADLINE_EXCEEDED), 'x', 'PAUSE_DEADLINE_MISSED').code).toBe('PAUSE_DEADLINE_MISSED');
    expect(federationFailure(err(GrpcStatus.PERMISSION_DENIED), 'x').code).toBe('PEER_REJECTED');
  });
});

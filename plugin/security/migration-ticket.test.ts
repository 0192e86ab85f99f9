import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TicketVerifier, canonicalClaims, cosignTicket, issueTicket } from './migration-ticket.js';
import type { MigrationTicket } from './migration-ticket.js';

const pair = (): { privateKey: string; publicKey: string } => {
  const k = generateKeyPairSync('ed25519');
  return { privateKey: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: k.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};
const A = pair();
const B = pair();
const EVIL = pair();
const T0 = 1_800_000_000_000;
const REQ = { migrationId: 'm1', vm: 'vm-7', device: 'edge-2' };
const ticket = (over: Partial<Parameters<typeof issueTicket>[0]> = {}, key = A.privateKey, signer = 'dc-a'): MigrationTicket =>
  issueTicket({ migrationId: 'm1', vm: 'vm-7', sources: ['edge-1'], destinations: ['edge-2'], ttlMs: 60_000, nowMs: T0, ...over }, signer, key);

describe('migration ticket — verification', () => {
  let now = T0 + 1000;
  const verifier = (o: Partial<ConstructorParameters<typeof TicketVerifier>[0]> = {}): TicketVerifier => new TicketVerifier({ trusted: { 'dc-a': A.publicKey, 'dc-b': B.publicKey }, now: () => now, ...o });

  it('ticket — a verifier refuses a trusted key that is not Ed25519 (an EC key, such as a certificate\'s), naming the signer', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => verifier({ trusted: { 'dc-a': A.publicKey, 'dc-b': ec } })).toThrow(/the key trusted for 'dc-b' is of type ec, not Ed25519 .*give dc-b's Ed25519 public key/);
  });

  it('ticket — a ticket signed by a trusted coordinator for this request verifies, again on retry', () => {
    const v = verifier();
    const t = ticket();
    expect(v.verify(t, REQ).migrationId).toBe('m1');
    expect(v.verify(t, { ...REQ, device: 'edge-1' }).vm).toBe('vm-7');
  });

  it('ticket — forged, altered or foreign-signed tickets are refused', () => {
    const v = verifier();
    expect(() => v.verify(ticket({}, EVIL.privateKey), REQ)).toThrow(/signature of 'dc-a' does not verify: .* check the public key configured for 'dc-a' \(a controller's peers\.dc-a\.ticketKey, a plugin daemon's migration\.coordinators\.dc-a\)/);
    expect(() => v.verify(ticket({}, EVIL.privateKey, 'dc-evil'), REQ)).toThrow(/no signature by a trusted coordinator \(signed by dc-evil; trusted: dc-a, dc-b\)/);
    const t = ticket();
    const widened = { ...t, claims: { ...t.claims, destinations: ['edge-2', 'edge-9'] } };
    expect(() => v.verify(widened, { ...REQ, device: 'edge-9' })).toThrow(/does not verify: the ticket was altered/);
    expect(() => v.verify({ ...t, signatures: [{ signer: 'dc-a', signature: 'not base64 at all!' }] }, REQ)).toThrow(/does not verify/);
  });

  it('ticket — expired and not-yet-valid tickets are refused, within the allowed clock skew', () => {
    const v = verifier();
    now = T0 + 60_000 + 1_999;
    expect(v.verify(ticket(), REQ).vm).toBe('vm-7');
    now = T0 + 60_000 + 2_000;
    expect(() => v.verify(ticket(), REQ)).toThrow(/expired at .*ask the coordinator for a new ticket/);
    now = T0 - 2_001;
    expect(() => v.verify(ticket(), REQ)).toThrow(/not valid before/);
    now = T0 + 1000;
  });

  it('ticket — a ticket for another migration, VM or device is refused', () => {
    const v = verifier();
    expect(() => v.verify(ticket(), { ...REQ, migrationId: 'm2' })).toThrow(/issued for migration 'm1', not 'm2'/);
    expect(() => v.verify(ticket(), { ...REQ, vm: 'vm-8' })).toThrow(/issued for VM 'vm-7', not 'vm-8'/);
    expect(() => v.verify(ticket(), { ...REQ, device: 'edge-3' })).toThrow(/does not name device 'edge-3'/);
  });

  it('ticket — once its migration ended here, the same ticket is a replay', () => {
    const v = verifier();
    const t = ticket();
    v.verify(t, REQ);
    v.retire('m1');
    expect(() => v.verify(t, REQ)).toThrow(/replayed: migration 'm1' has ended on this device/);
    expect(v.verify(ticket(), REQ).migrationId).toBe('m1');
  });

  it('ticket — an Abort repeated after its migration was rolled back here is admitted as a repeat; after a commit, or for any other call, it is a replay', () => {
    const v = verifier();
    const t = ticket();
    v.verify(t, REQ);
    v.retire('m1', 'aborted');
    expect(v.verify(t, { ...REQ, repeat: 'abort' })).toMatchObject({ migrationId: 'm1', repeated: true });
    expect(() => v.verify(t, { ...REQ, repeat: 'delete' })).toThrow(/replayed/);
    expect(() => v.verify(t, REQ)).toThrow(/replayed/);
    const committed = ticket();
    v.verify(committed, { ...REQ, migrationId: 'm1' });
    v.retire('m1', 'ended');
    expect(() => v.verify(committed, { ...REQ, repeat: 'abort' })).toThrow(/replayed/);
    // A retirement by commit is never turned back into one by abort.
    v.retire('m1', 'aborted');
    expect(() => v.verify(committed, { ...REQ, repeat: 'abort' })).toThrow(/replayed/);
    // A delete at a source, repeated, is admitted as a repeat; an Abort after it is not.
    const deleted = ticket();
    v.verify(deleted, REQ);
    v.retire('m1', 'deleted');
    expect(v.verify(deleted, { ...REQ, repeat: 'delete' })).toMatchObject({ repeated: true });
    expect(() => v.verify(deleted, { ...REQ, repeat: 'abort' })).toThrow(/replayed/);
  });

  it('ticket — nonces are forgotten once their ticket could no longer verify (bounded memory)', () => {
    const v = verifier();
    for (let i = 0; i < 50; i++) v.verify(ticket({ nowMs: T0 }), REQ);
    expect(v.remembered).toBe(50);
    now = T0 + 70_000;
    v.verify(ticket({ nowMs: now }), REQ);
    expect(v.remembered).toBe(1);
    now = T0 + 1000;
  });

  it('ticket — a cross-domain migration needs both coordinators; the canonical bytes ignore device order', () => {
    const v = verifier({ required: ['dc-a', 'dc-b'] });
    const t = ticket();
    expect(() => v.verify(t, REQ)).toThrow(/missing the signature of dc-b/);
    expect(v.verify(cosignTicket(t, 'dc-b', B.privateKey), REQ).migrationId).toBe('m1');
    expect(canonicalClaims({ ...t.claims, sources: ['b', 'a'] }).equals(canonicalClaims({ ...t.claims, sources: ['a', 'b'] }))).toBe(true);
  });

  it('ticket — bad verifier or issuer options are refused at the edge', () => {
    expect(() => new TicketVerifier({ trusted: {} })).toThrow(/no trusted coordinator keys/);
    expect(() => new TicketVerifier({ trusted: { 'dc-a': A.publicKey }, required: ['dc-b'] })).toThrow(/required signer 'dc-b' has no trusted key/);
    expect(() => ticket({ ttlMs: 0 })).toThrow(/ttlMs 0: expected 1 ms \.\. 24 h/);
  });
});

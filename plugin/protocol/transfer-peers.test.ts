import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueTicket } from '../security/migration-ticket.js';
import { TestPki, opensslAvailable } from '../testing/test-pki.js';
import type { PemPair } from '../testing/test-pki.js';
import { TransferPeers } from './transfer-peers.js';

describe.skipIf(!opensslAvailable())('transfer peers — a migration\'s Transfers share their connections (needs openssl)', () => {
  let pki: TestPki;
  let ca: PemPair;
  let me: PemPair;
  const coordinator = generateKeyPairSync('ed25519');
  const ticket = (ttlMs: number) => issueTicket({ migrationId: 'm1', vm: 'vm-7', sources: ['edge-a'], destinations: ['edge-b', 'edge-c'], ttlMs }, 'dc-a', coordinator.privateKey);
  beforeAll(() => {
    pki = new TestPki();
    ca = pki.ca('test CA');
    me = pki.issue(ca, { cn: 'edge-a', usage: 'both', san: ['DNS:localhost'] });
  });
  afterAll(() => pki.dispose());

  it('transfer peers — the final Transfer gets the pre-copy one\'s connection to the same destination; they close when the last Transfer of the migration released them', () => {
    const peers = new TransferPeers({ tls: { ca: ca.certPem, cert: me.certPem, key: me.keyPem }, maxMessageBytes: 1 << 20 });
    const b = { name: 'edge-b', address: '127.0.0.1:1' };
    const precopy = peers.acquire('m1', [b, { name: 'edge-c', address: '127.0.0.1:2' }], ticket(60_000));
    const final = peers.acquire('m1', [b], ticket(60_000));
    expect(final.peers.get('edge-b')).toBe(precopy.peers.get('edge-b'));
    // Another migration, or the same name at another address, has its own.
    const other = peers.acquire('m2', [b], ticket(60_000));
    expect(other.peers.get('edge-b')).not.toBe(precopy.peers.get('edge-b'));
    const moved = peers.acquire('m1', [{ name: 'edge-b', address: '127.0.0.1:3' }], ticket(60_000));
    expect(moved.peers.get('edge-b')).not.toBe(precopy.peers.get('edge-b'));
    expect(peers.open).toBe(4);
    precopy.release();
    precopy.release(); // twice: counted once
    expect(peers.open).toBe(4);
    other.release();
    expect(peers.open).toBe(3);
    expect(peers.renew('m2', ticket(120_000))).toBe(false);
    expect(peers.renew('m1', ticket(120_000))).toBe(true);
    final.release();
    expect(peers.open).toBe(3);
    moved.release();
    expect(peers.open).toBe(0);
    expect(peers.renew('m1', ticket(180_000))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { TestPki, opensslAvailable } from '../testing/test-pki.js';
import { caIssuerProblem, tlsIdentityProblem } from './tls-material.js';

describe.skipIf(!opensslAvailable())('TLS material — what can never work, told before any handshake (needs openssl)', () => {
  it('TLS material — an expired certificate, and one not yet valid, are told with their dates and the fix', () => {
    const pki = new TestPki();
    try {
      const ca = pki.ca('site CA');
      const expired = pki.issue(ca, { cn: 'edge-1', usage: 'server', expired: true });
      expect(tlsIdentityProblem(expired.certPem, expired.keyPem, 'server')).toMatch(/^the certificate \(CN=edge-1\) expired at \d{4}-.*Z \(valid from .*\); renew it$/);
      const fresh = pki.issue(ca, { cn: 'edge-1', usage: 'server' });
      expect(tlsIdentityProblem(fresh.certPem, fresh.keyPem, 'server')).toBeUndefined();
      expect(tlsIdentityProblem(fresh.certPem, fresh.keyPem, 'server', Date.now() - 86_400_000)).toMatch(/^the certificate \(CN=edge-1\) is not valid before .*\(this host's clock reads .*\); check the clock/);
    } finally {
      pki.dispose();
    }
  });

  it('TLS material — the CA that issued a certificate verifies it; another CA is told with both names; a bundle holding the issuer verifies it', () => {
    const pki = new TestPki();
    try {
      const site = pki.ca('site CA');
      const other = pki.ca('other CA');
      const cert = pki.issue(site, { cn: 'edge-1', usage: 'server' });
      expect(caIssuerProblem(cert.certPem, site.certPem)).toBeUndefined();
      expect(caIssuerProblem(cert.certPem, other.certPem)).toBe('it (CN=edge-1) was issued by CN=site CA; the CA file holds CN=other CA');
      expect(caIssuerProblem(cert.certPem, other.certPem + site.certPem)).toBeUndefined();
    } finally {
      pki.dispose();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status } from '@grpc/grpc-js';
import { startSimSwitch } from '../sim-switch.js';
import type { SimSwitch } from '../sim-switch.js';
import { generateTestPki } from '../testing/certs.js';
import type { TestPki } from '../testing/certs.js';
import { RawP4RuntimeClient } from '../testing/raw-client.js';

let pki: TestPki;
beforeAll(() => {
  pki = generateTestPki();
});

async function capabilitiesCode(sw: SimSwitch, creds: Parameters<typeof credentials.createSsl> | 'insecure'): Promise<number> {
  const c = new RawP4RuntimeClient(sw.address, { credentials: creds === 'insecure' ? credentials.createInsecure() : credentials.createSsl(...creds) });
  try {
    return (await c.capabilities()).outcome.code;
  } finally {
    c.close();
  }
}

describe('transport security — TLS', () => {
  let sw: SimSwitch;
  beforeAll(async () => {
    sw = await startSimSwitch({ credentials: { kind: 'tls', certPem: pki.serverCertPem, keyPem: pki.serverKeyPem } });
  });
  afterAll(() => sw.stop());

  it('transport security — a client trusting the CA is served; a plaintext client is not', async () => {
    expect(await capabilitiesCode(sw, [Buffer.from(pki.caPem)])).toBe(status.OK);
    expect(await capabilitiesCode(sw, 'insecure')).toBe(status.UNAVAILABLE);
  });
});

describe('transport security — mTLS', () => {
  let sw: SimSwitch;
  beforeAll(async () => {
    sw = await startSimSwitch({ credentials: { kind: 'mtls', caPem: pki.caPem, certPem: pki.serverCertPem, keyPem: pki.serverKeyPem } });
  });
  afterAll(() => sw.stop());

  it('transport security — a client with a certificate from the CA is served', async () => {
    expect(await capabilitiesCode(sw, [Buffer.from(pki.caPem), Buffer.from(pki.clientKeyPem), Buffer.from(pki.clientCertPem)])).toBe(status.OK);
  });

  it('transport security — a client without a certificate is refused', async () => {
    expect(await capabilitiesCode(sw, [Buffer.from(pki.caPem)])).toBe(status.UNAVAILABLE);
  });
});

describe('transport security — options', () => {
  it('transport security — a certificate that is not PEM is rejected at the edge', async () => {
    await expect(startSimSwitch({ credentials: { kind: 'tls', certPem: 'not a pem', keyPem: pki.serverKeyPem } })).rejects.toThrow(/sim option 'credentials.certPem'.*expected a PEM string/);
  });
});

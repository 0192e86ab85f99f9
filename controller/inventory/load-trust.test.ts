import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { loadInventory } from './load-inventory.js';

// The checks read the files: certificates are parsed (the controller's must be a client
// certificate whose key is the one given), keys are parsed. Real certificates, made with openssl.
const dir = mkdtempSync(join(tmpdir(), 'carryover-inv-trust-'));
const put = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return name;
};
const pki = opensslAvailable() ? new TestPki() : undefined;
if (pki) {
  const ca = pki.ca('inventory test CA');
  const ctl = pki.issue(ca, { cn: 'controller-a', usage: 'client', san: ['DNS:controller-a'] });
  const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['DNS:edge-1'] });
  const other = pki.issue(ca, { cn: 'controller-b', usage: 'both', san: ['DNS:controller-b'] });
  put('ca.pem', ca.certPem);
  put('ctl.pem', ctl.certPem);
  put('ctl.key', ctl.keyPem);
  put('server.pem', server.certPem);
  put('server.key', server.keyPem);
  put('other.key', other.keyPem);
}
const ed = generateKeyPairSync('ed25519');
put('dc-a.key', ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
put('dc-a.pub.pem', ed.publicKey.export({ type: 'spki', format: 'pem' }).toString());

const TRUST_SITE = `
domain: dc-a
controller:
  tls: { ca: ca.pem, cert: ctl.pem, key: ctl.key }
  signingKey: dc-a.key
devices:
  edge-1: { plugin: { address: 127.0.0.1:50051, serverName: edge-1.dc-a }, hosts: [host-a] }
  edge-2: { address: 127.0.0.1:9560, deviceId: 2, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

const load = (text: string): ReturnType<typeof loadInventory> => loadInventory(join(dir, put('site.yaml', text)));

describe.skipIf(!pki)('inventory — plugin daemons and the controller identity (needs the openssl CLI)', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    pki?.dispose();
  });

  it('inventory — a device behind its plugin daemon needs no switch address; the controller section resolves against the file', () => {
    const inv = load(TRUST_SITE);
    expect(inv.devices.get('edge-1')).toMatchObject({ address: undefined, deviceId: undefined, plugin: { address: '127.0.0.1:50051', serverName: 'edge-1.dc-a' } });
    expect(inv.devices.get('edge-2')).toMatchObject({ address: '127.0.0.1:9560', deviceId: 2n, plugin: undefined });
    expect(inv.controller).toEqual({ tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'ctl.pem'), key: join(dir, 'ctl.key') }, signingKey: join(dir, 'dc-a.key') });
  });

  const bad: [string, (s: string) => string, RegExp][] = [
    ['a daemon device without a controller section', (s) => s.replace(/controller:\n {2}tls: .*\n {2}signingKey: dc-a\.key\n/, ''), /site\.yaml:2: controller: got nothing; expected a controller section \(tls: \{ ca, cert, key \}, signingKey\): edge-1 is reached through plugin daemons/],
    ['a controller section without a domain', (s) => s.replace('domain: dc-a\n', ''), /site\.yaml:\d*:? ?domain: got nothing; expected this controller's domain name: its tickets are signed under it/],
    ['a signing key that is not Ed25519', (s) => s.replace('signingKey: dc-a.key', 'signingKey: ctl.key'), /site\.yaml:5: controller\.signingKey: got "ctl\.key"; expected a PEM file holding an Ed25519 private key; .*ctl\.key holds an? [A-Z ]*PRIVATE KEY$/],
    ['a public key given as the signing key', (s) => s.replace('signingKey: dc-a.key', 'signingKey: dc-a.pub.pem'), /controller\.signingKey: got "dc-a\.pub\.pem"; expected a PEM file holding an Ed25519 private key/],
    ['a missing certificate file', (s) => s.replace('cert: ctl.pem', 'cert: nope.pem'), /site\.yaml:4: controller\.tls\.cert: got "nope\.pem"; expected a readable PEM file \(certificate\); cannot read .*nope\.pem: ENOENT/],
    ['a key where the CA belongs', (s) => s.replace('ca: ca.pem', 'ca: ctl.key'), /controller\.tls\.ca: got "ctl\.key"; expected a PEM file holding a certificate; .*ctl\.key holds an? [A-Z ]*PRIVATE KEY$/],
    ['a certificate where the key belongs', (s) => s.replace('key: ctl.key', 'key: ctl.pem'), /controller\.tls\.key: got "ctl\.pem"; expected a PEM file holding a private key; .*ctl\.pem holds a CERTIFICATE$/],
    ['a server certificate as the controller\'s', (s) => s.replace('cert: ctl.pem, key: ctl.key', 'cert: server.pem, key: server.key'), /site\.yaml:4: controller\.tls\.cert: got "server\.pem"; expected the controller's client certificate and its key \(.*server\.pem, .*server\.key\): the certificate \(CN=edge-1\) is not for client authentication: its extendedKeyUsage allows serverAuth only; issue it with extendedKeyUsage clientAuth$/],
    ['a key that is not the certificate\'s', (s) => s.replace('key: ctl.key', 'key: other.key'), /site\.yaml:4: controller\.tls\.key: got "other\.key"; expected the controller's client certificate and its key \(.*\): the key is not the private key of the certificate \(CN=controller-a\); give the key it was issued with$/],
    ['a plugin address without a port', (s) => s.replace('127.0.0.1:50051', '127.0.0.1'), /site\.yaml:7: devices\.edge-1\.plugin\.address: got "127\.0\.0\.1"; expected 'host:port'/],
    ['an unknown field in plugin', (s) => s.replace('serverName: edge-1.dc-a', 'sni: edge-1.dc-a'), /devices\.edge-1\.plugin\.sni: got "edge-1\.dc-a"; expected no field 'sni' here; allowed: address, serverName/],
    ['an in-process device without its address', (s) => s.replace('address: 127.0.0.1:9560, ', ''), /devices\.edge-2\.address: got nothing; expected 'host:port'/],
  ];
  it.each(bad)('inventory — %s is refused naming file, line, field and expectation', (_what, mutate, message) => {
    expect(() => load(mutate(TRUST_SITE))).toThrow(message);
  });

  const FED = `${TRUST_SITE}federation: { listen: 127.0.0.1:0, tls: { cert: ctl.pem, key: ctl.key } }
peers:
  dc-b: { address: 127.0.0.1:50061, serverName: controller-dc-b, ca: ca.pem, identity: controller-dc-b, ticketKey: dc-a.pub.pem }
`;

  it('inventory — federation and peers: where this controller serves, and per peer its CA, identity, ticket key and address', () => {
    const inv = load(FED);
    expect(inv.federation).toEqual({ listen: '127.0.0.1:0', tls: { cert: join(dir, 'ctl.pem'), key: join(dir, 'ctl.key') } });
    expect(inv.peers.get('dc-b')).toEqual({ name: 'dc-b', address: '127.0.0.1:50061', serverName: 'controller-dc-b', ca: join(dir, 'ca.pem'), identity: 'controller-dc-b', ticketKey: join(dir, 'dc-a.pub.pem') });
    expect(load(TRUST_SITE).peers.size).toBe(0);
  });

  const badPeers: [string, (s: string) => string, RegExp][] = [
    ['peers without a federation section', (s) => s.replace(/federation: .*\n/, ''), /federation: got nothing; expected a federation section \(tls: \{ cert, key \}\): peers are met with this controller's certificate/],
    ['a peer named as this domain', (s) => s.replace('  dc-b: {', '  dc-a: {'), /peers\.dc-a: .*expected a domain other than this one \('dc-a'\)/],
    ['a peer named as a device', (s) => s.replace('  dc-b: {', '  edge-2: {'), /peers\.edge-2: .*expected a name no device here has/],
    ['a peer ticket key that is a private key', (s) => s.replace('ticketKey: dc-a.pub.pem', 'ticketKey: dc-a.key'), /peers\.dc-b\.ticketKey: got "dc-a\.key"; expected a PEM file holding an Ed25519 public key/],
    ['a peer without identity', (s) => s.replace(', identity: controller-dc-b', ''), /peers\.dc-b\.identity: got nothing; expected the CN or subjectAltName the peer controller's certificate carries/],
    ['a federation listen address without a port', (s) => s.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1'), /federation\.listen: got "127\.0\.0\.1"; expected 'host:port'/],
  ];
  it.each(badPeers)('inventory — %s is refused naming file, line, field and expectation', (_what, mutate, message) => {
    expect(() => load(mutate(FED))).toThrow(message);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { runFederationCommand } from './federation-command.js';

describe.skipIf(!opensslAvailable())('carryover federation — command line (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-federation-cmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const site = (): string => {
    const pki = new TestPki();
    const ca = pki.ca('dc-b CA');
    const peerCa = pki.ca('dc-a CA');
    const ctl = pki.issue(ca, { cn: 'controller-dc-b', usage: 'both', san: ['IP:127.0.0.1'] });
    const ed = generateKeyPairSync('ed25519');
    const files: Record<string, string> = {
      'ca.pem': ca.certPem, 'ctl.pem': ctl.certPem, 'ctl.key': ctl.keyPem, 'peer-ca.pem': peerCa.certPem,
      'dc-b.key': ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      'dc-a.pub.pem': generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
    pki.dispose();
    return `
domain: dc-b
controller: { tls: { ca: ca.pem, cert: ctl.pem, key: ctl.key }, signingKey: dc-b.key }
federation: { listen: 127.0.0.1:0, tls: { cert: ctl.pem, key: ctl.key } }
peers:
  dc-a: { ca: peer-ca.pem, identity: controller-dc-a, ticketKey: dc-a.pub.pem }
devices:
  edge-b: { address: 127.0.0.1:9559, deviceId: 1, hosts: [host-b] }
`;
  };

  it('federation command — serves peers from the inventory, says where and whom it trusts, stops on the signal', async () => {
    writeFileSync(join(dir, 'site.yaml'), site());
    const out: string[] = [];
    let stop: (s: string) => void = () => undefined;
    const done = runFederationCommand(['--config', join(dir, 'site.yaml')], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal: new Promise<string>((r) => (stop = r)), logSink: () => undefined });
    for (let i = 0; i < 100 && !out.some((l) => l.includes('serving peers')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(out.join('\n')).toMatch(/domain dc-b serving peers on 127\.0\.0\.1:\d+ \(mutual TLS; peers dc-a as controller-dc-a\)/);
    stop('SIGTERM');
    expect(await done).toBe(0);
  });

  it('federation command — an inventory without peers is exit 2 naming the file and what is missing', async () => {
    writeFileSync(join(dir, 'lonely.yaml'), site().replace(/peers:\n.*\n/, ''));
    const err: string[] = [];
    expect(await runFederationCommand(['--config', join(dir, 'lonely.yaml')], { stdout: () => undefined, stderr: (l) => err.push(l) })).toBe(2);
    expect(err.join('\n')).toMatch(/lonely\.yaml: no peers: list each trusted peer domain under 'peers'/);
  });
});

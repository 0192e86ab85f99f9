/** `carryover plugin --config FILE` against a sim running stateful_edge: starts, reports, stops. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMigrationPeer, issueTicket, runPluginCommand } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { P4INFO_PATH, deviceConfigFor } from '../edge-rig.js';

/** A daemon's plugin.yaml for `sw` serving the migration protocol as edge-1 with `tls` and `coordinators` (YAML flow mappings). */
const daemonYaml = (sw: SimSwitch, tls: string, coordinators: string): string => [
  `switch: { address: "${sw.address}", deviceId: ${Number(sw.deviceId)}, electionId: 30 }`,
  `p4info: ${P4INFO_PATH}`,
  'deviceConfig: edge.json',
  'migration:',
  '  listen: 127.0.0.1:0',
  '  device: edge-1',
  `  tls: ${tls}`,
  '  trustedCallers: [controller-a]',
  `  coordinators: ${coordinators}`,
  '',
].join('\n');

describe('carryover plugin (daemon)', () => {
  let sim: SimSwitch;
  const dir = mkdtempSync(join(tmpdir(), 'carryover-plugin-daemon-'));
  beforeAll(async () => {
    sim = await startSimSwitch({ profile: 'bmv2', program: 'stateful_edge' });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('plugin daemon — pushes the pipeline, picks in-band access on bmv2, logs health, stops on the signal', async () => {
    writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));
    const config = join(dir, 'plugin.json');
    writeFileSync(config, JSON.stringify({ switch: { address: sim.address, deviceId: Number(sim.deviceId), electionId: 20 }, p4info: P4INFO_PATH, deviceConfig: 'edge.json', healthIntervalMs: 100 }));
    const out: string[] = [];
    const logs: Record<string, unknown>[] = [];
    let stop: (s: string) => void = () => undefined;
    const stopSignal = new Promise<string>((r) => (stop = r));
    const done = runPluginCommand(['--config', config], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal, logSink: (r) => logs.push({ ...r }) });
    for (let i = 0; i < 100 && !out.some((l) => l.includes('running against')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out.join('\n')).toMatch(/running against .* register access inband/);
    expect(sim.state.pipeline()?.program).toBe('stateful_edge');
    await new Promise((r) => setTimeout(r, 250));
    stop('SIGTERM');
    expect(await done).toBe(0);
    expect(out.join('\n')).toContain('SIGTERM, stopping');
    expect(logs.some((r) => r['msg'] === 'health' && r['state'] === 'running' && r['backend'] === 'inband')).toBe(true);
  });

  it('plugin daemon — an unreachable switch fails with exit 1 and says where it tried', async () => {
    const config = join(dir, 'unreachable.json');
    writeFileSync(config, JSON.stringify({ switch: { address: '127.0.0.1:1', deviceId: 1 }, p4info: P4INFO_PATH, connectTimeoutMs: 500 }));
    const err: string[] = [];
    const code = await runPluginCommand(['--config', config], { stdout: () => undefined, stderr: (l) => err.push(l), stopSignal: new Promise(() => undefined), logSink: () => undefined });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/could not start against 127\.0\.0\.1:1/);
  });

  it('plugin daemon — a bad config is exit 2 naming the file and field, nothing started', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ switch: { address: sim.address, deviceId: 1 }, p4info: P4INFO_PATH, registerAccess: 'fast' }));
    const err: string[] = [];
    const code = await runPluginCommand(['--config', config], { stdout: () => undefined, stderr: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/bad\.json: field 'registerAccess'/);
  });

  it.skipIf(!opensslAvailable())('plugin daemon — a YAML config with a migration section serves the protocol over mutual TLS to trusted callers with tickets (needs openssl)', async () => {
    const pki = new TestPki();
    const ca = pki.ca('site CA');
    const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'] });
    const controller = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
    const coordinator = generateKeyPairSync('ed25519');
    for (const [name, text] of [['ca.pem', ca.certPem], ['edge-1.pem', server.certPem], ['edge-1.key', server.keyPem], ['dc-a.pub', coordinator.publicKey.export({ type: 'spki', format: 'pem' }).toString()]] as const) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));
    const config = join(dir, 'plugin.yaml');
    writeFileSync(config, daemonYaml(sim, '{ ca: ca.pem, cert: edge-1.pem, key: edge-1.key }', '{ dc-a: dc-a.pub }'));
    const out: string[] = [];
    let stop: (s: string) => void = () => undefined;
    const done = runPluginCommand(['--config', config], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal: new Promise<string>((r) => (stop = r)), logSink: () => undefined });
    const serving = (): RegExpExecArray | null => /serving the migration protocol on (127\.0\.0\.1:\d+) as device 'edge-1'/.exec(out.join('\n'));
    for (let i = 0; i < 200 && !serving() && !out.some((l) => l.includes('could not')); i++) await new Promise((r) => setTimeout(r, 50));
    const address = serving()?.[1] ?? '';
    expect(address, out.join('\n')).not.toBe('');
    const ref = { migrationId: 'm-daemon', vm: '10.0.0.99' };
    const good = issueTicket({ ...ref, sources: ['edge-0'], destinations: ['edge-1'], ttlMs: 60_000 }, 'dc-a', coordinator.privateKey);
    const forged = issueTicket({ ...ref, sources: ['edge-0'], destinations: ['edge-1'], ttlMs: 60_000 }, 'dc-a', generateKeyPairSync('ed25519').privateKey);
    const tls = { ca: ca.certPem, cert: controller.certPem, key: controller.keyPem };
    const c = connectMigrationPeer({ address, name: 'edge-1', tls, ticket: () => good });
    const bad = connectMigrationPeer({ address, name: 'edge-1', tls, ticket: () => forged });
    try {
      expect((await c.capabilities()).device).toBe('edge-1');
      await expect(bad.prepare(ref)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /does not verify/ });
      // Past authentication and authorization, the device itself answers: it does not know this VM.
      await expect(c.prepare(ref)).rejects.toMatchObject({ reason: 'PEER_REJECTED', message: /10\.0\.0\.99/ });
    } finally {
      c.close();
      bad.close();
      stop('SIGTERM');
      pki.dispose();
    }
    expect(await done).toBe(0);
  });

  it.skipIf(!opensslAvailable())('plugin daemon — a migration section with a key that is not the certificate\'s, a client-only certificate, or a coordinator key file missing, is exit 2 naming the files, before the switch is touched (needs openssl)', async () => {
    const empty = await startSimSwitch({ profile: 'bmv2' });
    const pki = new TestPki();
    try {
      const ca = pki.ca('site CA');
      const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'] });
      const other = pki.issue(ca, { cn: 'edge-2', usage: 'server', san: ['IP:127.0.0.1'] });
      const client = pki.issue(ca, { cn: 'controller-a', usage: 'client', san: ['DNS:controller-a'] });
      const coordinator = generateKeyPairSync('ed25519');
      for (const [name, text] of [['ca.pem', ca.certPem], ['edge-1.pem', server.certPem], ['edge-2.key', other.keyPem], ['ctl.pem', client.certPem], ['ctl.key', client.keyPem], ['dc-a.pub', coordinator.publicKey.export({ type: 'spki', format: 'pem' }).toString()]] as const) writeFileSync(join(dir, name), text);
      writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));
      const run = async (tls: string, coordinators: string): Promise<{ code: number; err: string }> => {
        const config = join(dir, 'mismatch.yaml');
        writeFileSync(config, daemonYaml(empty, tls, coordinators));
        const err: string[] = [];
        const code = await runPluginCommand(['--config', config], { stdout: () => undefined, stderr: (l) => err.push(l), stopSignal: new Promise(() => undefined), logSink: () => undefined });
        return { code, err: err.join('\n') };
      };
      const mismatched = await run('{ ca: ca.pem, cert: edge-1.pem, key: edge-2.key }', '{ dc-a: dc-a.pub }');
      expect(mismatched.code).toBe(2);
      expect(mismatched.err).toMatch(/migration\.tls: the certificate .*edge-1\.pem and the key .*edge-2\.key cannot be used together .*its own private key/);
      const clientOnly = await run('{ ca: ca.pem, cert: ctl.pem, key: ctl.key }', '{ dc-a: dc-a.pub }');
      expect(clientOnly.code).toBe(2);
      expect(clientOnly.err).toMatch(/migration\.tls\.cert: .*ctl\.pem: the certificate \(CN=controller-a\) is not for server authentication: its extendedKeyUsage allows clientAuth only; issue it with extendedKeyUsage serverAuth/);
      const noKey = await run('{ ca: ca.pem, cert: edge-1.pem, key: edge-2.key }', '{ dc-a: absent.pub }');
      expect(noKey.code).toBe(2);
      expect(noKey.err).toMatch(/migration\.coordinators\.dc-a: cannot read the public key file .*absent\.pub/);
      // Nothing reached the switch: no pipeline pushed, no stream opened.
      expect(empty.state.pipeline()).toBeNull();
      expect(empty.state.streamCount()).toBe(0);
    } finally {
      pki.dispose();
      await empty.stop();
    }
  });
});

/**
 * `carryover plugin` refuses at start what can never work — a listen address it cannot use, a
 * P4Info without what serving migrations needs, TLS or ticket material no peer would accept — with
 * exit 2 naming the field or file and the fix, before it touches the switch (field walkthrough 22:
 * each was found only after the switch's pipeline was pushed or replaced, or at the first call).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { P4Switch, pipelineCookie } from 'p4runtime-ts';
import { connectMigrationPeer } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { PemPair } from '../../plugin/testing/test-pki.js';
import { statefulEdgeP4InfoText, withoutTable } from '../../plugin/testing/stateful-edge-p4info.js';
import { l2EchoDeviceConfig, l2EchoP4Info, startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { runDaemonInProcess } from '../plugin-daemons.js';
import type { InProcessDaemon } from '../plugin-daemons.js';
import { P4INFO_PATH, deviceConfigFor, eventually } from '../edge-rig.js';

type Daemon = InProcessDaemon;

describe.skipIf(!opensslAvailable())('carryover plugin (daemon) — what can never work is refused at start, the switch untouched (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-daemon-start-'));
  const pki = new TestPki();
  let ca: PemPair;
  const coordinator = generateKeyPairSync('ed25519');
  const sims: SimSwitch[] = [];
  const daemons: Daemon[] = [];
  const migration = (o: Record<string, unknown> = {}): Record<string, unknown> => ({ listen: '127.0.0.1:0', device: 'edge-1', tls: { ca: 'ca.pem', cert: 'edge-1.pem', key: 'edge-1.key' }, trustedCallers: ['controller-a'], coordinators: { 'dc-a': 'dc-a.pub' }, ...o });

  beforeAll(() => {
    ca = pki.ca('site CA');
    const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'] });
    for (const [name, text] of [['ca.pem', ca.certPem], ['edge-1.pem', server.certPem], ['edge-1.key', server.keyPem], ['dc-a.pub', coordinator.publicKey.export({ type: 'spki', format: 'pem' }).toString()]] as const) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));
  });
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop();
    for (const s of sims.splice(0)) await s.stop();
  });
  afterAll(() => pki.dispose());

  const sim = async (): Promise<SimSwitch> => {
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    return s;
  };
  const startDaemon = (sw: SimSwitch, extra: Record<string, unknown>, name = 'plugin.json'): Daemon => {
    const config = join(dir, name);
    writeFileSync(config, JSON.stringify({ switch: { address: sw.address, deviceId: Number(sw.deviceId), electionId: 30 }, p4info: P4INFO_PATH, deviceConfig: 'edge.json', healthIntervalMs: 100, connectTimeoutMs: 5_000, ...extra }));
    const d = runDaemonInProcess(config);
    daemons.push(d);
    return d;
  };
  /** Runs a daemon expected to refuse at start: its exit code and what it printed. */
  const refused = async (sw: SimSwitch, extra: Record<string, unknown>): Promise<{ code: number; text: string }> => {
    const d = startDaemon(sw, extra, 'refused.json');
    return { code: await d.done, text: d.out.join('\n') };
  };

  it('plugin daemon — a migration.listen it cannot use (port taken, port 70000, an address not this host\'s) is exit 2 naming the field and the fix; the switch, running another program with replacePipeline: true, keeps its program and entries', async () => {
    const s = await sim();
    // The switch's own controller runs l2_echo on it, with one forwarding entry.
    const c = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 100n });
    try {
      await c.waitForPrimary(5_000);
      await c.setPipeline('VERIFY_AND_COMMIT', l2EchoP4Info(), l2EchoDeviceConfig('bmv2'), pipelineCookie(l2EchoP4Info(), l2EchoDeviceConfig('bmv2')));
      await c.write(c.table('mac_fwd').insert({ match: { 'hdr.ethernet.dst_addr': '00:00:00:00:00:05' }, action: 'forward', params: { port: 1 } }));
    } finally {
      await c.close();
    }
    const before = { pipeline: s.state.pipeline()?.cookie, entries: JSON.stringify(s.state.tableEntries('mac_fwd'), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) };
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const inUse = await refused(s, { replacePipeline: true, migration: migration({ listen: `127.0.0.1:${port}` }) });
      expect(inUse.code, inUse.text).toBe(2);
      expect(inUse.text).toMatch(new RegExp(`refused\\.json: migration protocol: cannot listen on 127\\.0\\.0\\.1:${port} \\(.*EADDRINUSE.*\\); another process listens there .*choose a free port in migration\\.listen`));
    } finally {
      taken.close();
    }
    const tooHigh = await refused(s, { replacePipeline: true, migration: migration({ listen: '127.0.0.1:70000' }) });
    expect(tooHigh.code).toBe(2);
    expect(tooHigh.text).toMatch(/field 'migration\.listen': expected 'host:port' with a port 0\.\.65535/);
    const notHere = await refused(s, { replacePipeline: true, migration: migration({ listen: '192.0.2.55:50051' }) });
    expect(notHere.code, notHere.text).toBe(2);
    expect(notHere.text).toMatch(/cannot listen on 192\.0\.2\.55:50051 \(.*EADDRNOTAVAIL.*\); that address is not one of this host's: .* in migration\.listen/);
    // Nothing reached the switch: its program, cookie and entry as they were, no daemon's stream left.
    expect(s.state.pipeline()?.program).toBe('l2_echo');
    expect(s.state.pipeline()?.cookie).toBe(before.pipeline);
    expect(JSON.stringify(s.state.tableEntries('mac_fwd'), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(before.entries);
    expect(await eventually(() => s.state.streamCount() === 0, 5_000, 50)).toBe(true);
  }, 60_000);

  it('plugin daemon — a P4Info without the migration control table is exit 2 naming what it lacks and the fix, before anything is pushed; with the full BMv2 JSON the JSON check names the table too', async () => {
    const s = await sim();
    writeFileSync(join(dir, 'no-vmm.p4info.txtpb'), withoutTable(statefulEdgeP4InfoText(), 'vm_migration'));
    const bare = await refused(s, { p4info: 'no-vmm.p4info.txtpb', deviceConfig: undefined, migration: migration() });
    expect(bare.code, bare.text).toBe(2);
    expect(bare.text).toMatch(/p4info .*no-vmm\.p4info\.txtpb: serving migrations \(the migration section\) needs a migration control table \(@migrate_control\("vm_id", "set_migration"\) on vm_migration; .*\), which this P4Info lacks; give the P4Info of a program with the migration contract .*or remove the migration section/);
    writeFileSync(join(dir, 'full.json'), statefulEdgeJson());
    const withJson = await refused(s, { p4info: 'no-vmm.p4info.txtpb', deviceConfig: 'full.json', migration: migration() });
    expect(withJson.code, withJson.text).toBe(2);
    expect(withJson.text).toMatch(/deviceConfig: .*table 'StatefulEdgeIngress\.vm_control\.vm_migration' is in the JSON but not in the P4Info/);
    expect(s.state.pipeline()).toBeNull();
    expect(s.state.streamCount()).toBe(0);
  }, 60_000);

  it('plugin daemon — an expired certificate, a coordinator key that is an EC certificate or a private key, are exit 2 naming the file and the fix; the switch untouched', async () => {
    const s = await sim();
    const expired = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'], expired: true });
    writeFileSync(join(dir, 'old.pem'), expired.certPem);
    writeFileSync(join(dir, 'old.key'), expired.keyPem);
    writeFileSync(join(dir, 'dc-a.key'), coordinator.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const old = await refused(s, { migration: migration({ tls: { ca: 'ca.pem', cert: 'old.pem', key: 'old.key' } }) });
    expect(old.code).toBe(2);
    expect(old.text).toMatch(/migration\.tls\.cert: .*old\.pem: the certificate \(CN=edge-1\) expired at .*; renew it/);
    const certAsKey = await refused(s, { migration: migration({ coordinators: { 'dc-a': 'ca.pem' } }) });
    expect(certAsKey.code).toBe(2);
    expect(certAsKey.text).toMatch(/migration\.coordinators\.dc-a: .*ca\.pem holds a CERTIFICATE, not a PUBLIC KEY; give dc-a's Ed25519 public key in PEM \(openssl pkey -in dc-a\.key -pubout -out dc-a\.pub\.pem\)/);
    const privateKey = await refused(s, { migration: migration({ coordinators: { 'dc-a': 'dc-a.key' } }) });
    expect(privateKey.code).toBe(2);
    expect(privateKey.text).toMatch(/migration\.coordinators\.dc-a: .*dc-a\.key holds a PRIVATE KEY: a coordinator's private key does not belong on a plugin host, only its public half/);
    expect(s.state.pipeline()).toBeNull();
    expect(s.state.streamCount()).toBe(0);
  }, 60_000);

  it('plugin daemon — a tls.ca that did not issue the daemon\'s own certificate (callers from another CA) is warned of naming the issuer, and the daemon serves those callers', async () => {
    const s = await sim();
    // The daemon's certificate from the switches' CA; its callers (tls.ca) from the site CA.
    const own = pki.ca('switches CA');
    const server = pki.issue(own, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'] });
    writeFileSync(join(dir, 'own.pem'), server.certPem);
    writeFileSync(join(dir, 'own.key'), server.keyPem);
    const d = startDaemon(s, { migration: migration({ tls: { ca: 'ca.pem', cert: 'own.pem', key: 'own.key' } }) });
    expect(await eventually(() => d.out.some((l) => l.includes('running against')), 30_000, 50), d.out.join('\n')).toBe(true);
    expect(d.logs.find((r) => r['level'] === 'warn' && /migration\.tls\.ca does not hold the issuer of this daemon's own certificate/.test(String(r['msg'])))).toMatchObject({ issuer: 'it (CN=edge-1) was issued by CN=switches CA; the CA file holds CN=site CA' });
    const address = /serving the migration protocol on (\S+:\d+)/.exec(d.out.join('\n'))?.[1] ?? '';
    const controller = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
    const c = connectMigrationPeer({ address, name: 'edge-1', tls: { ca: own.certPem, cert: controller.certPem, key: controller.keyPem }, ticket: () => { throw new Error('no migration here'); } });
    try {
      expect((await c.capabilities()).device).toBe('edge-1');
    } finally {
      c.close();
    }
  }, 60_000);
});

/** The committed BMv2 JSON of stateful_edge (p4/stateful_edge.json). */
function statefulEdgeJson(): Buffer {
  return readFileSync(join(dirname(P4INFO_PATH), 'stateful_edge.json'));
}

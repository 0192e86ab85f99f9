/**
 * hw-test — a peer with TLS material of its own: two sims, each serving P4Runtime over mutual TLS
 * under a CA of its own (real certificates made with openssl). `--peer-tls-*` reaches the peer;
 * without them the peer is dialled with the target's flags, refused, and the run stops before any
 * group, naming the flags.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import type { CredentialsOption } from 'p4runtime-ts';
import { TestPki, opensslAvailable } from '../plugin/testing/test-pki.js';
import type { SimSwitch, SimSwitchOptions } from '../sim/index.js';
import type { HwTestTls } from './options.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { P4INFO_PATH, startEdgeSim, statefulEdgeDeviceConfig } from './testing/sim-target.js';

/** One switch's PKI: the server side for the sim, the client side as hw-test flags and as credentials. */
interface SwitchPki {
  readonly server: NonNullable<SimSwitchOptions['credentials']>;
  readonly flags: HwTestTls;
  readonly client: CredentialsOption;
}

describe.skipIf(!opensslAvailable())('hw-test — the peer\'s own TLS (needs openssl)', () => {
  const pki = new TestPki();
  let targetPki: SwitchPki;
  let peerPki: SwitchPki;
  const sims: SimSwitch[] = [];

  function switchPki(name: string): SwitchPki {
    const ca = pki.ca(`${name}-ca`);
    const server = pki.issue(ca, { cn: 'localhost', usage: 'server', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    const client = pki.issue(ca, { cn: `hw-test-${name}`, usage: 'client' });
    return {
      server: { kind: 'mtls', caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem },
      flags: { ca: pki.file(`${name}-ca.pem`, ca.certPem), cert: pki.file(`${name}-client.pem`, client.certPem), key: pki.file(`${name}-client.key`, client.keyPem) },
      client: { kind: 'mtls', ca: ca.certPem, cert: client.certPem, key: client.keyPem },
    };
  }

  /** A bmv2-profile sim behind mutual TLS, running stateful_edge already. */
  async function start(p: SwitchPki): Promise<SimSwitch> {
    const sim = await startEdgeSim('bmv2', { credentials: p.server });
    sims.push(sim);
    const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 2n, credentials: p.client });
    try {
      await sw.ensurePipeline({ schema: P4Schema.fromFile(P4INFO_PATH), deviceConfig: statefulEdgeDeviceConfig() });
    } finally {
      await sw.close();
    }
    return sim;
  }

  beforeAll(() => {
    targetPki = switchPki('target');
    peerPki = switchPki('peer');
  });
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });
  afterAll(() => pki.dispose());

  it('hw-test --peer-tls-* — the migration group runs between two switches of two CAs, every check passing', async () => {
    const [target, peer] = [await start(targetPki), await start(peerPki)];
    const r = await runAgainstSim(target, 'bmv2', { tls: targetPki.flags, peer: peer.address, peerDeviceId: peer.deviceId, peerTls: peerPki.flags, groups: ['migration'], migrationFlows: 8 });
    const migration = r.groups.find((g) => g.id === 'migration');
    expect(migration?.checks.map((c) => `${c.id}: ${c.status}`)).toEqual(['setup', 'commit', 'flows-moved', 'counters-conserved', 'source-cleaned', 'traffic-after', 'rollback', 'round-trip'].map((id) => `${id}: PASS`));
  }, 120_000);

  it('hw-test --peer-plaintext — a TLS target and a plaintext peer: the migration group runs, every check passing; with --peer-tls-* too it is refused naming both', async () => {
    const target = await start(targetPki);
    const peer = await startEdgeSim('bmv2');
    sims.push(peer);
    const sw = await P4Switch.connect({ address: peer.address, deviceId: peer.deviceId, electionId: 2n });
    try {
      await sw.ensurePipeline({ schema: P4Schema.fromFile(P4INFO_PATH), deviceConfig: statefulEdgeDeviceConfig() });
    } finally {
      await sw.close();
    }
    const r = await runAgainstSim(target, 'bmv2', { tls: targetPki.flags, peer: peer.address, peerDeviceId: peer.deviceId, peerPlaintext: true, groups: ['migration'], migrationFlows: 8 });
    expect(r.groups.find((g) => g.id === 'migration')?.checks.map((c) => c.status)).toEqual(Array<string>(8).fill('PASS'));
    await expect(runAgainstSim(target, 'bmv2', { tls: targetPki.flags, peer: peer.address, peerDeviceId: peer.deviceId, peerPlaintext: true, peerTls: peerPki.flags, groups: ['migration'] })).rejects.toThrow(/--peer-plaintext: the peer cannot be reached both in plaintext and with the --peer-tls-\* flags/);
  }, 120_000);

  it('hw-test --peer without --peer-tls-* — the peer is dialled with the target\'s certificate, refused, and the run stops naming the flags', async () => {
    const [target, peer] = [await start(targetPki), await start(peerPki)];
    const groups: string[] = [];
    const run = runAgainstSim(target, 'bmv2', { tls: targetPki.flags, peer: peer.address, peerDeviceId: peer.deviceId, groups: ['placement'], connectTimeoutMs: 1500, onProgress: (e) => e.kind === 'group' && groups.push(e.group) });
    await expect(run).rejects.toThrow(new RegExp(`^cannot open a P4Runtime session with the peer ${peer.address.replace(/\./g, '\\.')} \\(device 0\\): .*check --peer, --peer-device-id and the --peer-tls-\\* flags \\(without them the peer gets the --tls-\\* ones\\)`));
    expect(groups).toEqual([]);
  }, 60_000);
});

/**
 * `carryover plugin` and the switch's pipeline, on bmv2-profile sims as the field test ran BMv2:
 * the daemon pushes its deviceConfig only to a switch with none, uses one running its program
 * (also from another build) as it is, refuses another program unless replacePipeline says so, and
 * after the switch restarts (stopped, started again empty on the same address) checks again:
 * pushes to the empty switch, warning that the tables must be laid out again, or degrades.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { P4Switch, pipelineCookie } from 'p4runtime-ts';
import { connectMigrationPeer, createEdgePlugin, issueTicket } from '../../plugin/index.js';
import type { EdgePlugin, SessionRestored } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { l2EchoDeviceConfig, l2EchoP4Info, startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { runDaemonInProcess } from '../plugin-daemons.js';
import type { InProcessDaemon } from '../plugin-daemons.js';
import { P4INFO_PATH, SCHEMA, deviceConfigFor, eventually } from '../edge-rig.js';

type Log = Record<string, unknown>;

const show = (logs: readonly Log[]): string => JSON.stringify(logs.slice(-6), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

type Daemon = InProcessDaemon;

const dir = mkdtempSync(join(tmpdir(), 'carryover-daemon-pipeline-'));
writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));

function startDaemon(sw: SimSwitch, extra: Record<string, unknown> = {}, name = 'plugin.json'): Daemon {
  const config = join(dir, name);
  writeFileSync(config, JSON.stringify({ switch: { address: sw.address, deviceId: Number(sw.deviceId), electionId: 30 }, p4info: P4INFO_PATH, deviceConfig: 'edge.json', healthIntervalMs: 100, connectTimeoutMs: 5_000, ...extra }));
  return runDaemonInProcess(config);
}

/** Your controller: pushes `p4info`/`deviceConfig` itself (its own cookie) and optionally writes, then disconnects. */
async function controllerPush(sw: SimSwitch, p4info: Parameters<P4Switch['setPipeline']>[1], deviceConfig: Uint8Array, then?: (c: P4Switch) => Promise<void>): Promise<void> {
  const c = await P4Switch.connect({ address: sw.address, deviceId: sw.deviceId, electionId: 100n });
  try {
    await c.waitForPrimary(5_000);
    await c.setPipeline('VERIFY_AND_COMMIT', p4info, deviceConfig, pipelineCookie(p4info, deviceConfig));
    await then?.(c);
  } finally {
    await c.close();
  }
}

const layOutVm = async (c: P4Switch): Promise<void> => {
  await c.write(c.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: 7, port: 1 } }));
};

/** Stops `sw` and starts an empty one on the same address: a switch restart (BMv2 --no-p4 started again). */
async function restart(sw: SimSwitch): Promise<SimSwitch> {
  await sw.stop();
  await new Promise((r) => setTimeout(r, 200));
  return startSimSwitch({ profile: 'bmv2', listen: `127.0.0.1:${sw.port}` });
}

const running = (d: Daemon): boolean => d.out.some((l) => l.includes('running against'));

describe('carryover plugin (daemon) — the switch\'s pipeline', () => {
  const sims: SimSwitch[] = [];
  const daemons: Daemon[] = [];
  const sim = async (): Promise<SimSwitch> => {
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    return s;
  };
  /** A daemon serving the migration protocol (edge-1, TLS from `ca`, coordinator dc-a), running. */
  const migrationDaemon = async (pki: TestPki, ca: ReturnType<TestPki['ca']>): Promise<{ s: SimSwitch; d: Daemon; coordinator: ReturnType<typeof generateKeyPairSync> }> => {
    const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'] });
    const coordinator = generateKeyPairSync('ed25519');
    for (const [name, text] of [['ca.pem', ca.certPem], ['edge-1.pem', server.certPem], ['edge-1.key', server.keyPem], ['dc-a.pub', coordinator.publicKey.export({ type: 'spki', format: 'pem' }).toString()]] as const) writeFileSync(join(dir, name), text);
    const s = await sim();
    const d = startDaemon(s, { migration: { listen: '127.0.0.1:0', device: 'edge-1', tls: { ca: 'ca.pem', cert: 'edge-1.pem', key: 'edge-1.key' }, trustedCallers: ['controller-a'], coordinators: { 'dc-a': 'dc-a.pub' } } });
    daemons.push(d);
    expect(await eventually(() => running(d), 30_000, 50), d.out.join('\n')).toBe(true);
    return { s, d, coordinator };
  };
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop();
    for (const s of sims.splice(0)) await s.stop();
  });

  it('plugin daemon — a switch running its program from another build (the controller\'s push, vm_table written) is used as it is: nothing pushed, vm_table kept, logged', async () => {
    const s = await sim();
    // The committed BMv2 JSON with a trailing newline: the same program, another cookie.
    const rebuild = Buffer.concat([deviceConfigFor('bmv2'), Buffer.from('\n')]);
    await controllerPush(s, SCHEMA.p4info, rebuild, layOutVm);
    const cookie = s.state.pipeline()?.cookie;
    const d = startDaemon(s);
    daemons.push(d);
    expect(await eventually(() => running(d), 20_000, 50), d.out.join('\n')).toBe(true);
    expect(s.state.pipeline()?.cookie).toBe(cookie);
    expect(s.state.tableEntries('vm_table')).toHaveLength(1);
    expect(d.logs.some((r) => r['msg'] === 'pipeline pushed')).toBe(false);
    expect(d.logs.some((r) => /another build \(same P4Info, other cookie\): used as it is/.test(String(r['msg'])))).toBe(true);
  }, 60_000);

  it('plugin daemon — a switch running another program: refuses to start (exit 1) naming the switch, both programs and the fix; the switch untouched', async () => {
    const s = await sim();
    await controllerPush(s, l2EchoP4Info(), l2EchoDeviceConfig('bmv2'));
    const cookie = s.state.pipeline()?.cookie;
    const d = startDaemon(s);
    expect(await d.done).toBe(1);
    const text = d.out.join('\n');
    expect(text).toMatch(new RegExp(`could not start against ${s.address}: the switch at ${s.address} \\(device 1\\) runs 'l2_echo'.*\\(cookie 0x${(cookie ?? 0n).toString(16)}\\), not this plugin's 'stateful_edge' 1\\.0\\.0 \\(.*stateful_edge\\.p4info\\.txtpb, cookie 0x[0-9a-f]+\\); nothing pushed: .*replacePipeline: true .*clears every table entry`));
    expect(s.state.pipeline()).toMatchObject({ program: 'l2_echo', cookie });
  }, 60_000);

  it('plugin daemon — replacePipeline: true in the config replaces another program at start, warning what the push cleared; a non-boolean is exit 2 naming the field', async () => {
    const s = await sim();
    await controllerPush(s, l2EchoP4Info(), l2EchoDeviceConfig('bmv2'));
    const d = startDaemon(s, { replacePipeline: true });
    daemons.push(d);
    expect(await eventually(() => running(d), 20_000, 50), d.out.join('\n')).toBe(true);
    expect(s.state.pipeline()?.program).toBe('stateful_edge');
    const warn = d.logs.find((r) => r['level'] === 'warn' && /pipeline replaced \(replacePipeline: true\)/.test(String(r['msg'])));
    expect(warn, show(d.logs)).toMatchObject({ previous: expect.stringMatching(/'l2_echo'/), cleared: expect.stringMatching(/vm_table/) });
    const bad = startDaemon(s, { replacePipeline: 'yes' }, 'bad.json');
    expect(await bad.done).toBe(2);
    expect(bad.out.join('\n')).toMatch(/bad\.json: field 'replacePipeline': expected true or false/);
  }, 60_000);

  it('plugin daemon — the switch restarts empty on the same address: degraded while it is away, then its pipeline pushed again with a warning that the tables must be laid out again, and running', async () => {
    const s = await sim();
    const d = startDaemon(s);
    daemons.push(d);
    expect(await eventually(() => running(d), 20_000, 50), d.out.join('\n')).toBe(true);
    const s2 = await restart(s);
    sims.push(s2);
    expect(await eventually(() => s2.state.pipeline()?.program === 'stateful_edge', 20_000, 50)).toBe(true);
    const warned = (): Log | undefined => d.logs.find((r) => r['level'] === 'warn' && /came back without its pipeline \(restarted\?\); pipeline pushed again/.test(String(r['msg'])));
    expect(await eventually(() => warned() !== undefined, 10_000, 50)).toBe(true);
    expect(warned()).toMatchObject({ cleared: expect.stringMatching(/port_role and vm_table/) });
    const states = d.logs.filter((r) => r['msg'] === 'edge plugin state').map((r) => r['to']);
    expect(states).toContain('degraded');
    expect(await eventually(() => d.logs.filter((r) => r['msg'] === 'health').at(-1)?.['state'] === 'running', 5_000, 50)).toBe(true);
  }, 90_000);

  it.skipIf(!opensslAvailable())('plugin daemon — the switch restarts empty under a daemon serving migrations: every digest it relies on (pinholes, new flows, deltas) is configured again, as the field\'s read-back checks (needs openssl)', async () => {
    const pki = new TestPki();
    try {
      const { s, d } = await migrationDaemon(pki, pki.ca('site CA'));
      /** The digests configured on `sw`, read by a backup client (as digcfg.mjs did in the field). */
      const configured = async (sw: SimSwitch): Promise<string[]> => {
        const c = await P4Switch.connect({ address: sw.address, deviceId: sw.deviceId, electionId: 1n, schema: SCHEMA });
        try {
          const names: string[] = [];
          for (const g of SCHEMA.digests) for await (const e of c.read(c.digest(g.name).config())) names.push(e.digest);
          return names.sort();
        } finally {
          await c.close();
        }
      };
      const all = SCHEMA.digests.map((g) => g.name).sort();
      expect(await eventually(async () => (await configured(s)).length === all.length, 10_000, 100)).toBe(true);
      const s2 = await restart(s);
      sims.push(s2);
      const health = (): Log | undefined => d.logs.filter((r) => r['msg'] === 'health').at(-1);
      expect(await eventually(() => d.logs.some((r) => r['msg'] === 'edge plugin state' && r['to'] === 'degraded') && health()?.['state'] === 'running', 20_000, 50), show(d.logs)).toBe(true);
      expect(await configured(s2)).toEqual(all);
    } finally {
      pki.dispose();
    }
  }, 90_000);

  it.skipIf(!opensslAvailable())('plugin daemon — the switch comes back running another program: health degraded with the reason, migration calls refused with it (SCHEMA_MISMATCH), nothing pushed (needs openssl)', async () => {
    const pki = new TestPki();
    try {
      const ca = pki.ca('site CA');
      const controller = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
      const { s, d, coordinator } = await migrationDaemon(pki, ca);
      const address = /serving the migration protocol on (\S+:\d+)/.exec(d.out.join('\n'))?.[1] ?? '';
      const s2 = await restart(s);
      sims.push(s2);
      // Its controller, with a higher election id, gives it another program before or after the daemon is back.
      await controllerPush(s2, l2EchoP4Info(), l2EchoDeviceConfig('bmv2'));
      const degraded = (): Log | undefined => d.logs.filter((r) => r['msg'] === 'health').at(-1);
      expect(await eventually(() => degraded()?.['state'] === 'degraded' && /runs 'l2_echo'/.test(String(degraded()?.['reason'])), 20_000, 50), show(d.logs)).toBe(true);
      expect(degraded()).toMatchObject({ level: 'warn', reason: expect.stringMatching(/not this plugin's 'stateful_edge'.*nothing pushed/) });
      expect(s2.state.pipeline()?.program).toBe('l2_echo');
      const c = connectMigrationPeer({ address, name: 'edge-1', tls: { ca: ca.certPem, cert: controller.certPem, key: controller.keyPem }, ticket: () => issueTicket({ migrationId: 'm-x', vm: '10.0.0.5', sources: ['edge-1'], destinations: ['edge-0'], ttlMs: 60_000 }, 'dc-a', coordinator.privateKey) });
      try {
        await expect(c.capabilities()).rejects.toMatchObject({ reason: 'SCHEMA_MISMATCH', message: /degraded: .*runs 'l2_echo'/ });
      } finally {
        c.close();
      }
    } finally {
      pki.dispose();
    }
  }, 90_000);
});

describe('edge plugin — after a switch restart', () => {
  const sims: SimSwitch[] = [];
  let plugin: EdgePlugin | undefined;
  afterEach(async () => {
    await plugin?.stop();
    for (const s of sims.splice(0)) await s.stop();
  });

  it('edge plugin — sessionRestored$ signals the restart (switchRestarted) once the pipeline is pushed again; calls wait for running, and it serves again', async () => {
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    plugin = createEdgePlugin({ address: s.address, deviceId: s.deviceId, p4info: SCHEMA, deviceConfig: deviceConfigFor('bmv2'), connectTimeoutMs: 5_000 });
    await plugin.start();
    const events: SessionRestored[] = [];
    plugin.sessionRestored$.subscribe((e) => events.push(e));
    const s2 = await restart(s);
    sims.push(s2);
    expect(await eventually(() => events.length > 0, 20_000, 50)).toBe(true);
    expect(events[0]).toMatchObject({ after: 'disconnect', switchRestarted: true, serving: true });
    expect(plugin.health()).toMatchObject({ state: 'running', primary: true, reason: undefined, pipeline: { pushed: true, replaced: undefined } });
    expect(plugin.health().history.map((h) => h.to)).toEqual(expect.arrayContaining(['degraded', 'running']));
    expect(s2.state.pipeline()?.program).toBe('stateful_edge');
    // The switch is empty: the VM map is gone, so the plugin says it does not know the VM.
    await expect(plugin.readVmState('10.0.0.5')).rejects.toMatchObject({ code: 'VM_UNKNOWN' });
  }, 60_000);
});

/**
 * Peer-to-peer transfer between two plugin daemons on two sims: `carryover migrate --transfer
 * peer-to-peer` has the source's daemon send the VM's state straight to the destination's (mutual
 * TLS with the source plugin's own certificate, the controller's ticket), while the controller
 * keeps the phases and the completeness proof. A destination daemon that does not trust the source
 * plugin as a caller refuses the transfer: rolled back, nothing moved. One that does receives every
 * import from the source plugin, none from the controller. Peer to peers (1:N): the source plugin
 * sends each flow straight to the destination edge its path hits, by the inventory's placement;
 * peers to peer (N:1): both source plugins send straight to the one destination.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrateCommand } from '../../controller/index.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { SimSwitch } from '../../sim/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { makeDomainFiles, siteYaml, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK, eventually } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment, udpIn, udpOut } from '../migration-fixture.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';

/** host-a served by two edges: the fabric's hash over the 5-tuple picks each flow's. */
const ECMP_HOST_A = 'hosts:\n  host-a: { placement: ecmp }\nplacement:\n  ecmp: { kind: hash, algorithm: crc32, fields: [vm_addr, remote_addr, vm_port, remote_port, protocol], devices: [edge-a, edge-c] }\n';
const PORTS = Array.from({ length: 14 }, (_, i) => 35_000 + i);
const UDP = [5300, 5301];

describe.skipIf(!opensslAvailable())('carryover migrate --transfer peer-to-peer — between two plugin daemons (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-p2p-'));
  const pki = new TestPki();
  let files: DomainFiles;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  let srcDaemon: RunningDaemon;
  /** Debug logs of edge-a and edge-c's daemons from the 1:N test on. */
  const edgeLogs: Record<string, unknown>[] = [];
  const daemons: RunningDaemon[] = [];
  // A third switch (host-a's second edge) for the 1:N and N:1 tests, and its edges' daemons by device.
  const THIRD_ID = 11;
  let third: SimSwitch | undefined;
  const byName = new Map<string, RunningDaemon>();
  let dstDaemon: RunningDaemon | undefined;
  beforeAll(async () => {
    files = makeDomainFiles(pki, dir, 'dc-a');
    [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(SRC_ID), startSwitchForDaemon(DST_ID)]);
    srcDaemon = await startDaemonInProcess(writeDaemonConfig({ switchAddress: src.address, deviceId: src.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-a', files, deltaIntervalMs: 10, snapshotSource: 'index' }));
    daemons.push(srcDaemon);
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await Promise.all([src?.stop(), dst?.stop(), third?.stop()]);
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `carryover migrate --transfer peer-to-peer` of vm-7 between hosts, with the given daemons (`[name, daemon, host]`). */
  const migrateP2p = async (id: string, from: string, to: string, edges: readonly (readonly [string, RunningDaemon, string])[], extraYaml = '', extraArgs: readonly string[] = []): Promise<{ code: number; out: string[]; err: string[] }> => {
    const path = join(dir, `${id}.yaml`);
    writeFileSync(path, siteYaml({
      files,
      devices: edges.map(([name, d, host]) => `${name}: { plugin: { address: ${d.address}, serverName: ${name} }, hosts: [${host}] }`),
      vms: [`vm-7: { address: 10.0.0.5, host: ${from} }`],
    }) + extraYaml);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMigrateCommand(['--config', path, '--vm', 'vm-7', '--from', from, '--to', to, '--transfer', 'peer-to-peer', '--migration-id', id, '--pause-deadline-ms', '60000', '--json', ...extraArgs], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  };
  const migrate = (dst: RunningDaemon, id: string): ReturnType<typeof migrateP2p> => migrateP2p(id, 'host-a', 'host-b', [['edge-a', srcDaemon, 'host-a'], ['edge-b', dst, 'host-b']]);

  it('p2p — a destination daemon that does not trust the source plugin refuses its transfer: exit 1, the refusal named, nothing moved', async () => {
    const refusing = await startDaemonInProcess(writeDaemonConfig({ switchAddress: dst.address, deviceId: dst.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-b', files, snapshotSource: 'index' }));
    try {
      // The check, told the transfer, sees it coming from the daemons' own answers.
      const c = await migrateP2p('m-p2p-check', 'host-a', 'host-b', [['edge-a', srcDaemon, 'host-a'], ['edge-b', refusing, 'host-b']], '', ['--check']);
      expect(c.code, [...c.err, ...c.out].join('\n')).toBe(1);
      expect((JSON.parse(c.out[0] ?? '{}') as { problems: unknown[] }).problems).toEqual([{ reason: 'PEER_REJECTED', detail: expect.stringMatching(/^edge-b does not trust edge-a's plugin daemon as a caller: its certificate names edge-a, edge-b trusts [^;]*; add edge-a to edge-b's migration\.trustedCallers$/) as string }]);
      const r = await migrate(refusing, 'm-p2p-refused');
      expect(r.code, [...r.err, ...r.out].join('\n')).toBe(1);
      const report = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
      expect(report).toMatchObject({ outcome: 'aborted', reason: 'PEER_REJECTED' });
      expect(String(report['detail'])).toMatch(/peer transfer from edge-a: .*'edge-a' is not a trusted caller of this plugin/);
      expect(countVmSlots(dst, group, DST_ID)).toBe(0);
      expect(countVmSlots(src, group, SRC_ID)).toBe(PORTS.length);
      for (const p of PORTS) expect(src.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
    } finally {
      await refusing.stop();
    }
  }, 300_000);

  it('p2p — the source plugin sends straight to a destination that trusts it: exit 0, every import came from edge-a, the last with the activation of edge-b; the flows pass at edge-b', async () => {
    const logs: Record<string, unknown>[] = [];
    dstDaemon = await startDaemonInProcess(writeDaemonConfig({ switchAddress: dst.address, deviceId: dst.deviceId, electionId: 21, p4info: P4INFO_PATH, device: 'edge-b', files, snapshotSource: 'index', trustedCallers: [files.controllerName, 'edge-a'], logLevel: 'debug', healthIntervalMs: 100 }), 120_000, logs);
    daemons.push(dstDaemon);
    // Two UDP flows out of the VM: the source's plugin learns a pinhole for each (their replies pass).
    for (const p of UDP) expect(src.dataplane.inject(1, udpOut(p)).kind).toBe('forward');
    expect(await eventually(() => UDP.every((p) => src.dataplane.inject(UPLINK, udpIn(p)).kind === 'forward'), 10_000)).toBe(true);
    const ready = await migrateP2p('m-p2p-ready', 'host-a', 'host-b', [['edge-a', srcDaemon, 'host-a'], ['edge-b', dstDaemon, 'host-b']], '', ['--check']);
    expect(ready.code, [...ready.err, ...ready.out].join('\n')).toBe(0);
    const r = await migrate(dstDaemon, 'm-p2p');
    expect(r.code, [...r.err, ...r.out].join('\n')).toBe(0);
    // The pinholes went peer to peer too, and are counted once each (the snapshot and the final batch both list them).
    expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ outcome: 'committed', transfer: 'peer-to-peer', sourceDeleted: PORTS.length, tableEntries: UDP.length });
    for (const p of UDP) expect(dst.dataplane.inject(UPLINK, udpIn(p)).kind).toBe('forward');
    const calls = logs.filter((l) => l['msg'] === 'migration call');
    const imports = calls.filter((l) => l['method'] === 'ImportStaged');
    expect(imports.length).toBeGreaterThan(0);
    expect(new Set(imports.map((l) => l['caller']))).toEqual(new Set(['edge-a']));
    // The pause pipelined: the source froze, sent the final batch and activated edge-b with it in
    // one call of its own; the controller made none at edge-b in the pause.
    expect(calls.filter((l) => l['method'] === 'ImportActivate').map((l) => l['caller'])).toEqual(['edge-a']);
    expect(calls.filter((l) => l['method'] === 'Activate')).toEqual([]);
    // The progress says so where FROZEN is printed (after the activation: walkthrough 14).
    expect(r.err).toContain("migrate: phase FROZEN (peer to peer: the source's plugin froze, sent its final changes and activated the destination in one call; the journal records it once it answers)");
    // Told of the commit, the destination keeps no record of the migration (its health line says so).
    expect(calls.filter((l) => l['method'] === 'Committed').map((l) => l['caller'])).toEqual([files.controllerName]);
    const lastHealth = (): Record<string, unknown> | undefined => logs.filter((l) => l['msg'] === 'health').at(-1);
    const since = logs.length;
    // A health line logged after the migration ended.
    expect(await eventually(() => logs.slice(since).some((l) => l['msg'] === 'health'), 5_000)).toBe(true);
    expect(lastHealth()).toMatchObject({ migrations: { migrations: 0, activated: 0 }, slotIndex: { gap: undefined } });
    // At debug, each call answered is logged once with how long the device took to serve it.
    const served = logs.filter((l) => l['msg'] === 'migration call served');
    expect(served.filter((l) => l['method'] === 'ImportActivate')).toEqual([expect.objectContaining({ migrationId: 'm-p2p', ms: expect.any(Number) })]);
    expect(served.length).toBe(calls.length);
    expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length);
    expect(countVmSlots(src, group, SRC_ID)).toBe(0);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 1)).kind).toBe('forward');
  }, 300_000);

  it('p2p — a stale inventory the other way round (the VM runs at edge-b, the inventory names a fresh edge-d holding none of its flows): refused PEER_REJECTED from the daemons\' own counts before any transfer; edge-b keeps its flows, no control entry left at edge-d', async () => {
    // After the test above the VM runs at edge-b. edge-d has never seen it (no flows, no control entry).
    const d = await startSwitchForDaemon(13);
    const dDaemon = await startDaemonInProcess(writeDaemonConfig({ switchAddress: d.sim.address, deviceId: d.sim.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-d', files, snapshotSource: 'index' }));
    try {
      const r = await migrateP2p('m-p2p-stale', 'host-d', 'host-b', [['edge-d', dDaemon, 'host-d'], ['edge-b', dstDaemon as RunningDaemon, 'host-b']]);
      expect(r.code, [...r.err, ...r.out].join('\n')).toBe(1);
      expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ reason: 'PEER_REJECTED', detail: expect.stringMatching(new RegExp(`seems to run at the destination already: the sources hold no flow of it, edge-b holds ${PORTS.length} of its flows`)) as string });
      expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length);
      for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 2)).kind).toBe('forward');
      for (const sw of [d.sim, dst]) expect(sw.state.tableEntries('vm_migration')).toEqual([]);
    } finally {
      await dDaemon.stop();
      await d.sim.stop();
    }
  }, 300_000);

  it('p2p 1:N — the source plugin sends each flow straight to the destination edge the placement picks: both edges receive only from the source plugin, every flow passes where its path goes', async () => {
    // The VM is at edge-b now (the test above); it goes back to host-a, served by edge-a and edge-c.
    ({ sim: third } = await startSwitchForDaemon(THIRD_ID));
    {
      await srcDaemon.stop();
      daemons.splice(daemons.indexOf(srcDaemon), 1);
      const logs = edgeLogs;
      const destination = async (sw: SimSwitch, device: string): Promise<RunningDaemon> => {
        const d = await startDaemonInProcess(writeDaemonConfig({ switchAddress: sw.address, deviceId: sw.deviceId, electionId: 30, p4info: P4INFO_PATH, device, files, snapshotSource: 'index', trustedCallers: [files.controllerName, 'edge-b'], logLevel: 'debug' }), 120_000, logs);
        daemons.push(d);
        return d;
      };
      const [a, c] = [await destination(src, 'edge-a'), await destination(third as SimSwitch, 'edge-c')];
      byName.set('edge-a', a).set('edge-c', c);
      const b = daemons.find((d) => d !== a && d !== c) as RunningDaemon;
      const { code, out, err } = await migrateP2p('m-p2p-1n', 'host-b', 'host-a', [['edge-b', b, 'host-b'], ['edge-a', a, 'host-a'], ['edge-c', c, 'host-a']], ECMP_HOST_A);
      expect(code, [...err, ...out].join('\n')).toBe(0);
      expect(JSON.parse(out[0] ?? '{}')).toMatchObject({ outcome: 'committed', sourceDeleted: PORTS.length });
      const imports = logs.filter((l) => l['msg'] === 'migration call' && l['method'] === 'ImportStaged');
      expect(new Set(imports.map((l) => l['caller']))).toEqual(new Set(['edge-b']));
      const atA = countVmSlots(src, group, SRC_ID);
      const atC = countVmSlots(third as SimSwitch, group, THIRD_ID);
      // Every flow moved exactly once, and the hash spread them over both edges.
      expect(atA + atC).toBe(PORTS.length);
      expect(atA).toBeGreaterThan(0);
      expect(atC).toBeGreaterThan(0);
      expect(countVmSlots(dst, group, DST_ID)).toBe(0);
      let passed = 0;
      for (const p of PORTS) {
        const viaA = src.dataplane.inject(UPLINK, returnSegment(p, 2)).kind === 'forward';
        const viaC = (third as SimSwitch).dataplane.inject(UPLINK, returnSegment(p, 2)).kind === 'forward';
        expect(viaA !== viaC, `flow ${p} passes at exactly one edge`).toBe(true);
        if (viaA || viaC) passed++;
      }
      expect(passed).toBe(PORTS.length);
    }
  }, 400_000);

  it('p2p N:1 — two source plugins each send their flows straight to one destination: it receives from both, none from the controller, every flow passes there', async () => {
    // After the test above the VM's flows are split over edge-a and edge-c (host-a): back to edge-b.
    const a = byName.get('edge-a') as RunningDaemon;
    const c = byName.get('edge-c') as RunningDaemon;
    const oldB = daemons.find((d) => d !== a && d !== c) as RunningDaemon;
    await oldB.stop();
    daemons.splice(daemons.indexOf(oldB), 1);
    const logs: Record<string, unknown>[] = [];
    const b = await startDaemonInProcess(writeDaemonConfig({ switchAddress: dst.address, deviceId: dst.deviceId, electionId: 40, p4info: P4INFO_PATH, device: 'edge-b', files, snapshotSource: 'index', trustedCallers: [files.controllerName, 'edge-a', 'edge-c'], logLevel: 'debug' }), 120_000, logs);
    daemons.push(b);
    const other = third as SimSwitch;
    expect(countVmSlots(src, group, SRC_ID) + countVmSlots(other, group, THIRD_ID)).toBe(PORTS.length);
    const { code, out, err } = await migrateP2p('m-p2p-n1', 'host-a', 'host-b', [['edge-a', a, 'host-a'], ['edge-c', c, 'host-a'], ['edge-b', b, 'host-b']], ECMP_HOST_A);
    expect(code, [...err, ...out].join('\n')).toBe(0);
    expect(JSON.parse(out[0] ?? '{}')).toMatchObject({ outcome: 'committed', sourceDeleted: PORTS.length });
    const imports = logs.filter((l) => l['msg'] === 'migration call' && l['method'] === 'ImportStaged');
    expect(new Set(imports.map((l) => l['caller']))).toEqual(new Set(['edge-a', 'edge-c']));
    expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length);
    expect(countVmSlots(src, group, SRC_ID) + countVmSlots(other, group, THIRD_ID)).toBe(0);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 3)).kind).toBe('forward');
    // The sources' daemons log their Transfers at debug as they do unary calls: the pre-copy one,
    // then the final one that froze the source (two sources: no activation with the batch), each
    // with how it ended.
    const transfers = edgeLogs.filter((l) => l['method'] === 'Transfer' && l['migrationId'] === 'm-p2p-n1');
    expect(transfers.filter((l) => l['msg'] === 'migration call').map((l) => `${String(l['caller'])} ${String(l['transfer'])}`).sort()).toEqual([
      `${files.controllerName} final+freeze`, `${files.controllerName} final+freeze`, `${files.controllerName} precopy`, `${files.controllerName} precopy`,
    ]);
    expect(transfers.filter((l) => l['msg'] === 'migration call served').map((l) => [l['transfer'], l['outcome'], typeof l['ms']])).toEqual(expect.arrayContaining([['precopy', 'completed', 'number'], ['final+freeze', 'completed', 'number']]));
    expect(transfers.filter((l) => l['msg'] === 'migration call served')).toHaveLength(4);
  }, 400_000);
});

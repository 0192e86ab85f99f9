/**
 * Two domains as deployed: each switch has its plugin daemon (`carryover plugin --config`) serving
 * the migration protocol with its own domain's CA and requiring tickets signed by BOTH
 * coordinators; dc-b's controller serves federation from its inventory (serveFederation); dc-a's
 * runs `carryover migrate --to-domain dc-b` from its inventory. Every hop is real gRPC with
 * mutual TLS: controller↔controller across two CAs, each controller↔its own plugins.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory, runMigrateCommand, runRecoverCommand, serveFederation } from '../../controller/index.js';
import type { FederationServer } from '../../controller/index.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { SimSwitch } from '../../sim/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { makeDomainFiles, siteYaml, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment } from '../migration-fixture.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';
import { crossDomainControllerStoppingAfterPrecopy } from '../stopping-controller.js';

const PORTS = Array.from({ length: 10 }, (_, i) => 34_000 + i);

describe.skipIf(!opensslAvailable())('two domains — plugin daemons, both coordinators\' signatures required (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-two-domains-daemons-'));
  const pki = new TestPki();
  let a: DomainFiles;
  let b: DomainFiles;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  let server: FederationServer;
  const daemons: RunningDaemon[] = [];
  let srcDaemonAddress = '';
  /** dc-a's inventory, naming dc-b's federation server where it listens now. */
  const writeSiteA = (): void => writeFileSync(join(a.dir, 'site.yaml'), siteYaml({
    files: a, peers: [{ files: b, address: server.address }],
    devices: [`edge-a: { plugin: { address: ${srcDaemonAddress}, serverName: edge-a }, hosts: [host-a] }`], vms: ['vm-7: { address: 10.0.0.5, host: host-a }'],
  }));
  beforeAll(async () => {
    a = makeDomainFiles(pki, dir, 'dc-a');
    b = makeDomainFiles(pki, dir, 'dc-b');
    [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(SRC_ID), startSwitchForDaemon(DST_ID)]);
    const coordinators = { 'dc-a': a.publicKey, 'dc-b': b.publicKey };
    const [da, db] = await Promise.all([
      startDaemonInProcess(writeDaemonConfig({ switchAddress: src.address, deviceId: src.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-a', files: a, coordinators, requiredSigners: ['dc-a', 'dc-b'], deltaIntervalMs: 10 })),
      startDaemonInProcess(writeDaemonConfig({ switchAddress: dst.address, deviceId: dst.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-b', files: b, coordinators, requiredSigners: ['dc-a', 'dc-b'] })),
    ]);
    daemons.push(da as RunningDaemon, db as RunningDaemon);
    writeFileSync(join(b.dir, 'site.yaml'), siteYaml({ files: b, listen: '127.0.0.1:0', peers: [{ files: a }], devices: [`edge-b: { plugin: { address: ${db?.address}, serverName: edge-b }, hosts: [host-b] }`] }));
    server = await serveFederation({ inventory: loadInventory(join(b.dir, 'site.yaml')), defaultP4info: P4INFO_PATH });
    srcDaemonAddress = da?.address ?? '';
    writeSiteA();
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    for (const d of daemons) await d.stop();
    await Promise.all([src?.stop(), dst?.stop()]);
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two domains over daemons — dc-a\'s controller stops in pre-copy: carryover recover at dc-a rolls both domains back, reaching the plugins that require both signatures with the ticket the domains agreed; the VM then migrates again (the test below)', async () => {
    await crossDomainControllerStoppingAfterPrecopy(join(a.dir, 'site.yaml'), P4INFO_PATH, 'dc-b', 'host-b', 'm-stop');
    const kept = join(a.dir, 'journal', 'm-stop.ticket.json');
    expect(existsSync(kept)).toBe(true);
    expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length); // staged at dc-b's switch
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRecoverCommand(['--config', join(a.dir, 'site.yaml')], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    expect(code, [...err, ...out].join('\n')).toBe(0);
    expect(out.join('\n')).toMatch(/m-stop .*ROLLED BACK/i);
    expect(countVmSlots(dst, group, DST_ID)).toBe(0);
    expect(countVmSlots(src, group, SRC_ID)).toBe(PORTS.length);
    expect(server.calls().filter((c) => c.migrationId === 'm-stop' && c.method === 'Abort').map((c) => c.ok)).toEqual([true]);
    expect(existsSync(kept)).toBe(false);
    const journal = (d: DomainFiles): string[] => readFileSync(join(d.dir, 'journal', 'm-stop.journal.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(journal(a).slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(journal(b).slice(-2)).toEqual(['abort', 'rolled-back']);
  }, 300_000);

  it('two domains over daemons — dc-b\'s federation server restarts while a migration is in pre-copy: on start it rolls back what it had staged (its plugins reached with the kept ticket); dc-a\'s recover then rolls back its side', async () => {
    await crossDomainControllerStoppingAfterPrecopy(join(a.dir, 'site.yaml'), P4INFO_PATH, 'dc-b', 'host-b', 'm-stop2');
    expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length);
    await server.stop();
    server = await serveFederation({ inventory: loadInventory(join(b.dir, 'site.yaml')), defaultP4info: P4INFO_PATH });
    writeSiteA();
    for (let i = 0; i < 300 && countVmSlots(dst, group, DST_ID) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(countVmSlots(dst, group, DST_ID)).toBe(0);
    const journal = (d: DomainFiles): string[] => readFileSync(join(d.dir, 'journal', 'm-stop2.journal.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    const keptAtB = join(b.dir, 'journal', 'm-stop2.ticket.json');
    for (let i = 0; i < 100 && (journal(b).at(-1) !== 'rolled-back' || existsSync(keptAtB)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(journal(b).slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(existsSync(keptAtB)).toBe(false);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRecoverCommand(['--config', join(a.dir, 'site.yaml')], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    expect(code, [...err, ...out].join('\n')).toBe(0);
    expect(out.join('\n')).toMatch(/m-stop2 .*ROLLED BACK/i);
    expect(journal(a).slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(countVmSlots(src, group, SRC_ID)).toBe(PORTS.length);
  }, 300_000);

  it('two domains over daemons — carryover migrate --to-domain commits: dc-b\'s plugin admits the flows, dc-a\'s is cleaned, both journals say so', async () => {
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('drop');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMigrateCommand(['--config', join(a.dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--to-domain', 'dc-b', '--migration-id', 'm-x', '--pause-deadline-ms', '60000', '--json'], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    expect(code, [...err, ...out].join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(/proposing to dc-b .*\n.*dc-b plans destinations edge-b/);
    const report = JSON.parse(out[0] ?? '{}') as Record<string, unknown>;
    expect(report).toMatchObject({ outcome: 'committed', snapshotSlots: PORTS.length, sourceDeleted: PORTS.length, plan: { toDomain: 'dc-b', destinations: [{ name: 'dc-b' }] }, crossDomain: { peer: 'dc-b', destinations: ['edge-b'], callsInPause: ['Commit'] } });
    expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length);
    expect(countVmSlots(src, group, SRC_ID)).toBe(0);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
    const journal = (d: DomainFiles): string[] => readFileSync(join(d.dir, 'journal', 'm-x.journal.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    // dc-a journals its source's delete done (cleaned-at) before dc-b records the commit (Finish).
    expect(journal(a).slice(-4)).toEqual(['activated', 'committed', 'cleaned-at', 'source-cleaned']);
    expect(journal(b).slice(-3)).toEqual(['activated', 'committed', 'source-cleaned']);
    expect(server.calls().filter((c) => !c.ok)).toEqual([]);
  }, 300_000);
});

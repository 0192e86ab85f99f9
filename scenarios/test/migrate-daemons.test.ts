/**
 * `carryover migrate` reaching both switches through their plugin daemons: each sim has a
 * `carryover plugin --config plugin.yaml` daemon serving the migration protocol (gRPC, mutual TLS
 * with the domain's CA, tickets required), and the inventory names only the daemons
 * (`plugin: { address, serverName }`) and the controller's TLS and signing key. The command
 * migrates the VM with no P4Runtime session of its own: the destination admits the VM's flows
 * after, the source is cleaned. A daemon that does not trust the controller's signing key
 * refuses every migration call: the migration rolls back with the reason, nothing moved.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrateCommand } from '../../controller/index.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { SimSwitch } from '../../sim/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { controllerYaml, makeDomainFiles, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK } from '../edge-rig.js';
import { establish, returnSegment } from '../migration-fixture.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';

const PORTS = Array.from({ length: 16 }, (_, i) => 32_000 + i);

describe.skipIf(!opensslAvailable())('carryover migrate — devices behind plugin daemons (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-migrate-daemons-'));
  const pki = new TestPki();
  let files: DomainFiles;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  const daemons: RunningDaemon[] = [];
  beforeAll(async () => {
    files = makeDomainFiles(pki, dir, 'dc-a');
    [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(7), startSwitchForDaemon(9)]);
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await Promise.all([src?.stop(), dst?.stop()]);
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The daemons' log records (debug: each migration call, by method). */
  const logs: Record<string, unknown>[] = [];
  const daemon = async (sw: SimSwitch, device: string, electionId: number, coordinators?: Record<string, string>): Promise<RunningDaemon> => {
    const d = await startDaemonInProcess(writeDaemonConfig({
      switchAddress: sw.address, deviceId: sw.deviceId, electionId, p4info: P4INFO_PATH, device, files, requiredSigners: ['dc-a'], deltaIntervalMs: 10, logLevel: 'debug',
      ...(coordinators ? { coordinators } : {}),
    }), 120_000, logs);
    daemons.push(d);
    return d;
  };
  const site = (srcAt: string, dstAt: string): string => `
domain: dc-a
journal: ./journal
${controllerYaml(files)}
devices:
  edge-a: { plugin: { address: ${srcAt}, serverName: edge-a }, hosts: [host-a] }
  edge-b: { plugin: { address: ${dstAt}, serverName: edge-b }, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;
  const migrate = async (siteYaml: string, id: string): Promise<{ code: number; out: string[]; err: string[] }> => {
    const path = join(dir, `${id}.yaml`);
    writeFileSync(path, siteYaml);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMigrateCommand(['--config', path, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', id, '--pause-deadline-ms', '60000', '--json'], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  };

  let srcDaemon: RunningDaemon;

  it('migrate over daemons — a destination daemon that does not trust this coordinator refuses: exit 1, UNAUTHORIZED named, nothing moved', async () => {
    srcDaemon = await daemon(src, 'edge-a', 20);
    const other = makeDomainFiles(pki, dir, 'dc-x');
    const refusing = await daemon(dst, 'edge-b', 20, { 'dc-a': other.publicKey });
    const r = await migrate(site(srcDaemon.address, refusing.address), 'm-refused');
    expect(r.code, r.err.join('\n')).toBe(1);
    const report = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    expect(report).toMatchObject({ outcome: 'aborted' });
    expect(String(report['detail'])).toMatch(/edge-b.*ticket refused.*'dc-a' does not verify/);
    // Nothing was accepted at edge-b, so nothing there needs undoing: the rollback is complete
    // (a device that refuses every call would otherwise leave it open for ever).
    const journal = readFileSync(join(dir, 'journal', 'm-refused.journal.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(journal.slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
    expect(await refusing.stop()).toBe(0);
    daemons.splice(daemons.indexOf(refusing), 1);
  }, 300_000);

  it('migrate over daemons — a serverName the daemon\'s certificate does not carry: refused before anything moves, naming serverName and the names the certificate has', async () => {
    const dstDaemon = await daemon(dst, 'edge-b', 22);
    const r = await migrate(site(srcDaemon.address, dstDaemon.address).replace('serverName: edge-b', 'serverName: edge-x'), 'm-sni');
    daemons.splice(daemons.indexOf(dstDaemon), 1);
    await dstDaemon.stop();
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    expect(report).toMatchObject({ outcome: 'aborted', snapshotSlots: 0 });
    expect(String(report['detail'])).toMatch(/device edge-b: Capabilities: the daemon at 127\.0\.0\.1:\d+ presents a certificate for IP Address:127\.0\.0\.1, DNS:edge-b, not for 'edge-x' \(the inventory's plugin\.serverName\); set serverName to one of its names, or give the daemon a certificate with subjectAltName DNS:edge-x$/);
    expect(countVmSlots(dst, group, 9)).toBe(0);
  }, 300_000);

  it('migrate over daemons — --check counts the VM\'s slots and the room from the daemons\' indexes; then the VM moves through both daemons: exit 0, the destination admits its flows, the source is cleaned', async () => {
    const dstDaemon = await daemon(dst, 'edge-b', 23);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 1)).kind).toBe('drop');
    // First --check: each daemon answers from its slot index once its start-up scan is done — the
    // VM's slots counted exactly, the room it needs at edge-b, no ticket used, nothing prepared.
    const path = join(dir, 'check.yaml');
    writeFileSync(path, site(srcDaemon.address, dstDaemon.address));
    let check: { outcome: string; devices: { vm?: { slots: number | null } }[]; room: unknown[]; notes: unknown[] } | undefined;
    for (let i = 0; i < 240 && (check?.devices.some((d) => d.vm?.slots === null) ?? true); i++) {
      if (check) await new Promise((r) => setTimeout(r, 500));
      const out: string[] = [];
      expect(await runMigrateCommand(['--config', path, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check', '--json'], { stdout: (l) => out.push(l), stderr: () => undefined })).toBe(0);
      check = JSON.parse(out[0] ?? '{}') as typeof check;
    }
    expect(check).toMatchObject({ outcome: 'ready', devices: [{ vm: { id: 7, runsHere: true, slots: PORTS.length, migrations: [] } }, { vm: { id: 9, slots: 0 } }], room: [{ device: 'edge-b', needs: PORTS.length, exact: true }], notes: [] });
    const r = await migrate(site(srcDaemon.address, dstDaemon.address), 'm-daemons');
    expect(r.code, [...r.err, ...r.out].join('\n')).toBe(0);
    expect(r.err.join('\n')).toMatch(/edge-a \(plugin daemon at 127\.0\.0\.1:\d+\)/);
    const report = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    expect(report).toMatchObject({ migrationId: 'm-daemons', outcome: 'committed', transfer: 'controller', snapshotSlots: PORTS.length, sourceDeleted: PORTS.length });
    expect(countVmSlots(dst, group, 9)).toBe(PORTS.length);
    expect(countVmSlots(src, group, 7)).toBe(0);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 1)).kind).toBe('forward');
    // In the pause, one call to each daemon: the source froze and answered its final delta in one
    // (FreezeFinal), the destination imported it and activated in one (ImportActivate).
    const methods = logs.filter((l) => l['msg'] === 'migration call' && l['migrationId'] === 'm-daemons').map((l) => l['method'] as string);
    const pause = methods.slice(methods.indexOf('FreezeFinal'), methods.indexOf('DeleteAtSource'));
    expect(pause).toEqual(['FreezeFinal', 'ImportActivate']);
  }, 300_000);
});

/**
 * P4Runtime over mutual TLS (issue 14: "mTLS on every connection … and P4Runtime where the target
 * supports TLS"). Two simulated switches serve P4Runtime only to clients holding a certificate
 * from the switches' CA (real certificates made with openssl). `carryover migrate` reaches them
 * with the inventory's per-device `tls`, and plugin daemons with their config's `tls`; a device
 * configured without a client certificate is refused by the switch, and the command says which
 * device and what to fix, with nothing changed.
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
import { controllerYaml, makeDomainFiles, writeDaemonConfig, yamlFlowMap } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK } from '../edge-rig.js';
import { establish, returnSegment } from '../migration-fixture.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';

const PORTS = Array.from({ length: 12 }, (_, i) => 33_000 + i);

describe.skipIf(!opensslAvailable())('P4Runtime over mutual TLS — switches that require client certificates (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-p4rt-tls-'));
  const pki = new TestPki();
  let files: DomainFiles;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  let paths: { ca: string; cert: string; key: string };
  const daemons: RunningDaemon[] = [];
  beforeAll(async () => {
    const switchCa = pki.ca('switch-ca');
    const server = pki.issue(switchCa, { cn: 'localhost', usage: 'server', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    const client = pki.issue(switchCa, { cn: 'carryover-operator', usage: 'client' });
    paths = { ca: pki.file('switch-ca.pem', switchCa.certPem), cert: pki.file('operator.pem', client.certPem), key: pki.file('operator.key', client.keyPem) };
    const tls = {
      server: { kind: 'mtls' as const, caPem: switchCa.certPem, certPem: server.certPem, keyPem: server.keyPem },
      client: { kind: 'mtls' as const, ca: switchCa.certPem, cert: client.certPem, key: client.keyPem },
    };
    files = makeDomainFiles(pki, dir, 'dc-a');
    [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(7, 'full', tls), startSwitchForDaemon(9, 'full', tls)]);
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await Promise.all([src?.stop(), dst?.stop()]);
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const migrate = async (site: string, id: string, from: string, to: string): Promise<{ code: number; out: string[]; err: string[] }> => {
    const path = join(dir, `${id}.yaml`);
    writeFileSync(path, site);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMigrateCommand(['--config', path, '--vm', 'vm-7', '--from', from, '--to', to, '--migration-id', id, '--pause-deadline-ms', '60000', '--json'], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  };
  const direct = (dstTls: { ca: string; cert?: string; key?: string }): string => `
journal: ./journal
devices:
  edge-a: { address: ${src.address}, deviceId: ${src.deviceId}, electionId: 20, hosts: [host-a], tls: ${yamlFlowMap(paths)} }
  edge-b: { address: ${dst.address}, deviceId: ${dst.deviceId}, electionId: 20, hosts: [host-b], tls: ${yamlFlowMap(dstTls)} }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

  it('P4Runtime mTLS — a device configured without a client certificate is refused by its switch: the command names the device and the fix, nothing moves', async () => {
    const r = await migrate(direct({ ca: paths.ca }), 'm-no-client-cert', 'host-a', 'host-b');
    expect(r.code, [...r.err, ...r.out].join('\n')).not.toBe(0);
    expect([...r.err, ...r.out].join('\n')).toMatch(/edge-b.*credentials/s);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
  }, 300_000);

  it('P4Runtime mTLS — carryover migrate with the inventory\'s tls moves the VM between switches that require client certificates', async () => {
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 1)).kind).toBe('drop');
    const r = await migrate(direct(paths), 'm-mtls', 'host-a', 'host-b');
    expect(r.code, [...r.err, ...r.out].join('\n')).toBe(0);
    expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ migrationId: 'm-mtls', outcome: 'committed', snapshotSlots: PORTS.length, sourceDeleted: PORTS.length });
    expect(countVmSlots(dst, group, 9)).toBe(PORTS.length);
    expect(countVmSlots(src, group, 7)).toBe(0);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, 1)).kind).toBe('forward');
  }, 300_000);

  it('P4Runtime mTLS — plugin daemons reach their switches with their config\'s tls and move the VM back; one without the client certificate does not start, naming the switch', async () => {
    const config = (sw: SimSwitch, device: string, switchTls: { ca: string; cert?: string; key?: string }): string => writeDaemonConfig({
      switchAddress: sw.address, deviceId: sw.deviceId, electionId: 30, p4info: P4INFO_PATH, device, files, requiredSigners: ['dc-a'], deltaIntervalMs: 10, switchTls,
    });
    await expect(startDaemonInProcess(config(dst, 'edge-b', { ca: paths.ca }), 60_000)).rejects.toThrow(new RegExp(dst.address.replace(/\./g, '\\.')));
    const b = await startDaemonInProcess(config(dst, 'edge-b', paths));
    daemons.push(b);
    const a = await startDaemonInProcess(config(src, 'edge-a', paths));
    daemons.push(a);
    const site = `
domain: dc-a
journal: ./journal
${controllerYaml(files)}
devices:
  edge-a: { plugin: { address: ${a.address}, serverName: edge-a }, hosts: [host-a] }
  edge-b: { plugin: { address: ${b.address}, serverName: edge-b }, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-b }
`;
    const r = await migrate(site, 'm-back', 'host-b', 'host-a');
    expect(r.code, [...r.err, ...r.out].join('\n')).toBe(0);
    expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ migrationId: 'm-back', outcome: 'committed', snapshotSlots: PORTS.length });
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, returnSegment(p, 2)).kind).toBe('forward');
  }, 400_000);
});

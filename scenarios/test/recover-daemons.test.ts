/**
 * `carryover recover` when the devices are behind plugin daemons: the controller stops (killed)
 * mid-migration, the daemons live on and remember the migration, and their tickets carry roles.
 * From the freeze on, recovery cleans each destination as a source is cleaned after a commit (it
 * may be active); the daemon admits that call only when the ticket names the destination a source
 * too. Two sims, a daemon each (mutual TLS, tickets required), real gRPC.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRecoverCommand } from '../../controller/index.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { SimSwitch } from '../../sim/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { controllerYaml, makeDomainFiles, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK } from '../edge-rig.js';
import { establish, returnSegment } from '../migration-fixture.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import { controllerStoppingAt as stopAt } from '../stopping-controller.js';
import type { RunningDaemon } from '../plugin-daemons.js';

const PORTS = Array.from({ length: 10 }, (_, i) => 34_000 + i);

describe.skipIf(!opensslAvailable())('carryover recover — devices behind plugin daemons (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-recover-daemons-'));
  const pki = new TestPki();
  let files: DomainFiles;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  let daemons: RunningDaemon[] = [];
  let config: string;

  beforeAll(() => {
    files = makeDomainFiles(pki, dir, 'dc-a');
  });
  afterEach(async () => {
    for (const d of daemons) await d.stop();
    daemons = [];
    await Promise.all([src?.stop(), dst?.stop()]);
  });
  afterAll(() => {
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fresh switches with the VM's flows at the source, a daemon beside each, and the inventory naming the daemons. */
  async function setUp(name: string): Promise<void> {
    [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(7), startSwitchForDaemon(9)]);
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
    const daemon = async (sw: SimSwitch, device: string): Promise<RunningDaemon> => {
      const d = await startDaemonInProcess(writeDaemonConfig({ switchAddress: sw.address, deviceId: sw.deviceId, electionId: 20, p4info: P4INFO_PATH, device, files, requiredSigners: ['dc-a'], deltaIntervalMs: 10 }));
      daemons.push(d);
      return d;
    };
    const [a, b] = [await daemon(src, 'edge-a'), await daemon(dst, 'edge-b')];
    config = join(dir, `${name}.yaml`);
    writeFileSync(config, `
domain: dc-a
journal: ./journal-${name}
${controllerYaml(files)}
devices:
  edge-a: { plugin: { address: ${a.address}, serverName: edge-a }, hosts: [host-a] }
  edge-b: { plugin: { address: ${b.address}, serverName: edge-b }, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`);
  }

  /** A controller that migrates vm-7 over the daemons and stops at `at` without a word to anyone (the daemons stay up). */
  const controllerStoppingAt = (at: 'FROZEN' | 'ACTIVATED', id: string): Promise<void> => stopAt(config, P4INFO_PATH, at, id);

  const recover = async (...extra: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRecoverCommand(['--config', config, ...extra], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  };
  const events = (name: string, id: string): string[] => readFileSync(join(dir, `journal-${name}`, `${id}.journal.jsonl`), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  const passesAt = (sw: SimSwitch, n: number): boolean => PORTS.every((p) => sw.dataplane.inject(UPLINK, returnSegment(p, n)).kind === 'forward');
  const noneAt = (sw: SimSwitch, n: number): boolean => PORTS.every((p) => sw.dataplane.inject(UPLINK, returnSegment(p, n)).kind === 'drop');

  it('recover over daemons — stopped with the source frozen: the staged destination is cleaned through its daemon, the source unfrozen', async () => {
    await setUp('frozen');
    await controllerStoppingAt('FROZEN', 'm-d-frz');
    expect(countVmSlots(dst, group, 9)).toBe(PORTS.length); // staged there
    const r = await recover();
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/^migration m-d-frz \(VM vm-7, left in FROZEN\): ROLLED BACK — the destinations \(edge-b\) cleaned \(10 slots of the VM cleared\)/);
    expect(events('frozen', 'm-d-frz').slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(passesAt(src, 0)).toBe(true);
    expect(await recover()).toMatchObject({ code: 0, out: [expect.stringMatching(/^nothing to recover/)] });
  }, 300_000);

  it('recover over daemons — stopped once activated, the VM still at the source: the activated destination is cleaned through its daemon and the source unfrozen', async () => {
    await setUp('activated');
    await controllerStoppingAt('ACTIVATED', 'm-d-act');
    expect(passesAt(dst, 1)).toBe(true); // active there
    const r = await recover('--vm-at', 'source');
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/ROLLED BACK — the destinations \(edge-b\) cleaned \(10 slots of the VM cleared\)/);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(noneAt(dst, 2)).toBe(true);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(passesAt(src, 1)).toBe(true);
  }, 300_000);
});

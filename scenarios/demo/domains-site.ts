/**
 * The two-domain demo's site, deployed as an operator would: domain dc-a with the source edge,
 * domain dc-b with the destination edge and a control twin (the same switch, never given state);
 * each domain its own CA, controller certificate and ticket key; a plugin daemon beside each
 * migrating switch (`carryover plugin --config`, a separate process with `plugins: 'process'`)
 * requiring tickets signed by both coordinators; an inventory per domain with the cross-trust
 * written out (peers); dc-b's controller serving federation. The switches are simulated in this
 * process (the demo drives the VM's traffic into their data planes).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory, serveFederation } from '../../controller/index.js';
import type { FederationServer, Inventory } from '../../controller/index.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { SimProfileName, SimSwitch } from '../../sim/index.js';
import { makeDomainFiles, siteYaml, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH } from '../edge-rig.js';
import { startDaemonInProcess, startDaemonProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';
import { DEMO_VM } from './demo-site.js';

/** How the plugin daemons run. */
export type DemoPlugins = 'process' | 'in-process';

/** The running two-domain site. */
export interface DomainsSite {
  readonly dir: string;
  readonly a: DomainFiles;
  readonly b: DomainFiles;
  readonly src: SimSwitch;
  readonly dst: SimSwitch;
  readonly control: SimSwitch;
  readonly group: SlotGroupSpec;
  /** The per-VM counters the pipeline declares. */
  readonly counters: readonly string[];
  readonly daemons: { readonly 'edge-a': RunningDaemon & { readonly pid?: number }; readonly 'edge-b': RunningDaemon & { readonly pid?: number } };
  readonly inventoryA: Inventory;
  readonly federation: FederationServer;
  stop(): Promise<void>;
}

/** Starts the site; `progress` narrates. @throws when openssl is missing (certificates are made at run time). */
export async function startDomainsSite(profile: SimProfileName, plugins: DemoPlugins, progress: (line: string) => void): Promise<DomainsSite> {
  if (!opensslAvailable()) throw new Error('the two-domain demo makes its certificates with the openssl CLI, which is not on PATH (Debian: apt-get install openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'carryover-domains-demo-'));
  const pki = new TestPki();
  const cleanup: (() => Promise<unknown>)[] = [async () => rmSync(dir, { recursive: true, force: true }), async () => pki.dispose()];
  const stop = async (): Promise<void> => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  };
  try {
    const a = makeDomainFiles(pki, dir, 'dc-a');
    const b = makeDomainFiles(pki, dir, 'dc-b');
    progress('two trust domains: dc-a and dc-b, each with its own CA, controller certificate and Ed25519 ticket key');
    // The demo VM is the fixtures' VM (10.0.0.5 on port 1): laid out as its id on each side.
    const [s, d, c] = await Promise.all([startSwitchForDaemon(DEMO_VM.sourceId, profile), startSwitchForDaemon(DEMO_VM.destinationId, profile), startSwitchForDaemon(DEMO_VM.destinationId, profile)]);
    for (const x of [s, d, c]) cleanup.push(() => x.sim.stop());
    const coordinators = { 'dc-a': a.publicKey, 'dc-b': b.publicKey };
    const start = plugins === 'process' ? startDaemonProcess : startDaemonInProcess;
    const daemon = async (files: DomainFiles, device: string, at: SimSwitch): Promise<RunningDaemon & { pid?: number }> => {
      const r = await start(writeDaemonConfig({ switchAddress: at.address, deviceId: at.deviceId, electionId: 20, p4info: P4INFO_PATH, device, files, coordinators, requiredSigners: ['dc-a', 'dc-b'], deltaIntervalMs: 10, snapshotSource: 'index' }));
      cleanup.push(() => r.stop());
      return r;
    };
    const [da, db] = await Promise.all([daemon(a, 'edge-a', s.sim), daemon(b, 'edge-b', d.sim)]);
    progress(`plugin daemons ${plugins === 'process' ? `as processes (pids ${da.pid ?? '?'}, ${db.pid ?? '?'})` : 'in this process'}: edge-a (dc-a) on ${da.address}, edge-b (dc-b) on ${db.address}; each requires tickets signed by dc-a AND dc-b`);
    writeFileSync(join(b.dir, 'site.yaml'), siteYaml({ files: b, listen: '127.0.0.1:0', peers: [{ files: a }], devices: [`edge-b: { plugin: { address: ${db.address}, serverName: edge-b }, hosts: [host-b] }`] }));
    const federation = await serveFederation({ inventory: loadInventory(join(b.dir, 'site.yaml')), defaultP4info: P4INFO_PATH });
    cleanup.push(() => federation.stop());
    writeFileSync(join(a.dir, 'site.yaml'), siteYaml({
      files: a, peers: [{ files: b, address: federation.address }],
      devices: [`edge-a: { plugin: { address: ${da.address}, serverName: edge-a }, hosts: [host-a] }`], vms: [`${DEMO_VM.name}: { address: ${DEMO_VM.addr}, host: host-a }`],
    }));
    progress(`dc-b's controller serves federation on ${federation.address}, trusting dc-a's CA for controller-dc-a only`);
    return {
      dir, a, b, src: s.sim, dst: d.sim, control: c.sim, group: s.group, counters: s.counters,
      daemons: { 'edge-a': da, 'edge-b': db },
      inventoryA: loadInventory(join(a.dir, 'site.yaml')),
      federation,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

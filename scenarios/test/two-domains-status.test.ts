/**
 * dc-b's recover of a migration it activated, settled by dc-a's journal (federation Status) rather
 * than the operator's word: dc-a committed and dc-b never recorded it (its Finish lost, dc-b's
 * federation down) — dc-b's recover asks dc-a, commits, and refuses `--vm-at source`, which
 * deleted the VM's only copy in field walkthrough 17. Without an answer from dc-a it changes
 * nothing and says why. Simulated switches; both controllers serve federation over real gRPC with
 * mutual TLS.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory, recoverMigrations, serveFederation } from '../../controller/index.js';
import type { DeviceConnector, FederationServer, Inventory } from '../../controller/index.js';
import type { DeviceApi } from '../../plugin/index.js';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { controllerYaml, federationYaml, peersYaml } from '../domain-files.js';
import { P4INFO_PATH, UPLINK, eventually } from '../edge-rig.js';
import { DST_ID, establish, returnSegment } from '../migration-fixture.js';
import { startTwoDomains } from '../two-domain-rig.js';
import type { TwoDomains } from '../two-domain-rig.js';

const PORTS = Array.from({ length: 6 }, (_, i) => 35_000 + i);

describe.skipIf(!opensslAvailable())('two domains — dc-b\'s recover asks dc-a where the migration ended (needs openssl)', () => {
  let site: TwoDomains;
  let dcA: FederationServer;
  beforeAll(async () => {
    site = await startTwoDomains({});
    for (const p of PORTS) expect(establish(site.src.sim, p)).toBe(true);
    expect(await eventually(async () => (await site.srcApi.capabilities()).slots.free === site.src.plugin.group.slots - PORTS.length)).toBe(true);
    // dc-a serves federation too (its journal answers Status).
    const invA = parseInventory(site.inventoryA().replace(/^federation: \{ /m, 'federation: { listen: 127.0.0.1:0, '), join(site.dir, 'dc-a.yaml'));
    dcA = await serveFederation({ inventory: invA, defaultP4info: P4INFO_PATH, journal: site.journalA, connect: site.connectA });
    // dc-a commits; dc-b's journal refuses the commit record, so it stays ACTIVATED there.
    const append = site.journalB.append.bind(site.journalB);
    site.journalB.append = (id, e) => (e.type === 'committed' ? Promise.reject(new Error('ENOSPC: no space left on device, write')) : append(id, e));
    const out = await site.migrate('m-status');
    site.journalB.append = append;
    expect(out.run.unfinished).toMatchObject({ vmAt: 'destination' });
    expect((await site.journalB.load('m-status')).at(-1)?.type).toBe('activated');
  }, 120_000);
  afterAll(async () => {
    await dcA?.stop();
    await site?.stop();
  });

  /** dc-b's inventory, with dc-a's federation address when `reachA`. */
  const inventoryB = (reachA: boolean): Inventory => parseInventory([
    'domain: dc-b',
    controllerYaml(site.b),
    federationYaml(site.b),
    peersYaml([{ files: site.a, ...(reachA ? { address: dcA.address } : {}) }]),
    'devices:',
    `  edge-b: { address: ${site.dst.sim.address}, deviceId: ${site.dst.sim.deviceId}, hosts: [host-b] }`,
    '',
  ].join('\n'), join(site.dir, 'dc-b.yaml'));
  const connectB: DeviceConnector = async (devices) => ({ apis: new Map(devices.map((d) => [d.name, site.dstApi as DeviceApi])), stop: async () => undefined });
  const recoverB = async (reachA: boolean, vmAt?: 'source' | 'destination') => {
    const [r] = await recoverMigrations({ inventory: inventoryB(reachA), journal: site.journalB, connect: connectB, defaultP4info: P4INFO_PATH, progress: () => undefined, ...(vmAt ? { vmAt } : {}) });
    return r;
  };
  /** The VM's state at dc-b is whole and live: its flows pass there. */
  const liveAtB = (): void => {
    expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
    for (const p of PORTS) expect(site.dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
  };

  it('dc-b recover — dc-a cannot be asked (no address for it): nothing changed, the message says why and what to do', async () => {
    const r = await recoverB(false);
    expect(r).toMatchObject({ outcome: 'needs-operator', detail: expect.stringMatching(/only the source domain knows where the VM runs; dc-a could not be asked \(peers\.dc-a has no address.*\)\. Run carryover recover there first/) as unknown });
    expect((await site.journalB.load('m-status')).at(-1)?.type).toBe('activated');
    liveAtB();
  });

  it('dc-b recover — --vm-at source against dc-a\'s word (committed) is refused, nothing changed: it would delete the only copy', async () => {
    const r = await recoverB(true, 'source');
    expect(r).toMatchObject({ outcome: 'needs-operator', detail: expect.stringMatching(/^nothing was changed: dc-a's journal says it committed, so the VM runs here; --vm-at source contradicts it and would delete the VM's state here, its only copy/) as unknown });
    expect(dcA.calls().at(-1)).toMatchObject({ method: 'Status', peer: 'dc-b', ok: true });
    expect((await site.journalB.load('m-status')).at(-1)?.type).toBe('activated');
    liveAtB();
  });

  it('dc-b recover — without --vm-at, dc-a\'s journal (committed) settles it: committed here, the VM\'s state kept', async () => {
    const r = await recoverB(true);
    expect(r).toMatchObject({ outcome: 'committed', detail: expect.stringMatching(/^dc-a's journal says it committed; the VM runs here: the destinations \(edge-b\) keep its state/) as unknown });
    expect((await site.journalB.load('m-status')).map((e) => e.type).slice(-2)).toEqual(['committed', 'source-cleaned']);
    liveAtB();
  });
});

/**
 * Two data-centre domains on simulated switches, for the federation tests and the domains
 * benchmark: domain dc-a with a source edge (VM 10.0.0.5 as id 7 in front of host-a), domain dc-b
 * with a destination edge (the same VM as id 9 in front of host-b), each domain with its own CA,
 * controller certificate and ticket key, each controller trusting the other explicitly (peers),
 * dc-b's controller serving federation. Devices are reached in process (device APIs on the
 * plugins) — the boundary under test is the one between the controllers — with hooks to wrap a
 * device API (fault injection) and to put something between the controllers (a delaying proxy).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryJournal, executeMigration, parseInventory, planToPeer, serveFederation } from '../controller/index.js';
import type { ConnectedDevices, DeviceConnector, FederationServer, Inventory, InventoryFederation, InventoryPeer, MigrationOutcome } from '../controller/index.js';
import type { Logger } from 'p4runtime-ts';
import { createDeviceApi } from '../plugin/index.js';
import type { DeviceApi, EdgeDeviceApi } from '../plugin/index.js';
import { TestPki } from '../plugin/testing/test-pki.js';
import { controllerYaml, federationYaml, makeDomainFiles, peersYaml } from './domain-files.js';
import type { DomainFiles } from './domain-files.js';
import { P4INFO_PATH, newFlowDigestDelayFor, startEdgeRig } from './edge-rig.js';
import type { EdgeRig, EdgeRigOptions } from './edge-rig.js';
import { DST_ID, SRC_ID, topology } from './migration-fixture.js';

/** Something between the two controllers (e.g. a delaying proxy) forwarding to `target`. */
export type Interposer = (target: string) => Promise<{ readonly address: string; close(): Promise<void> }>;

/** Options of startTwoDomains. */
export interface TwoDomainOptions {
  /** Wraps dc-b's destination API as dc-b's controller sees it (fault injection). */
  readonly wrapDestination?: (api: DeviceApi) => DeviceApi;
  /** Wraps dc-a's source API as dc-a's controller sees it. */
  readonly wrapSource?: (api: DeviceApi) => DeviceApi;
  /** Put between dc-a's controller and dc-b's federation service. */
  readonly between?: Interposer;
  /** dc-b rolls back a migration not driven for this long before activation (default: the server's). */
  readonly idleMs?: number;
  /** How dc-b's switch runs (e.g. a variant of stateful_edge, or another P4Info for its plugin). */
  readonly destination?: Partial<EdgeRigOptions>;
  /** dc-b's federation server logs here (default: nowhere). */
  readonly logger?: Logger;
}

/** The running two-domain site. */
export interface TwoDomains {
  readonly dir: string;
  readonly a: DomainFiles;
  readonly b: DomainFiles;
  readonly pki: TestPki;
  readonly src: EdgeRig;
  readonly dst: EdgeRig;
  readonly srcApi: EdgeDeviceApi;
  readonly dstApi: EdgeDeviceApi;
  readonly server: FederationServer;
  /** dc-b's journal (in memory). */
  readonly journalB: MemoryJournal;
  /** How dc-a reaches its source (in process), for a recovery driven by a test. */
  readonly connectA: DeviceConnector;
  /** dc-a's journal (in memory). */
  readonly journalA: MemoryJournal;
  /** dc-a's inventory text, with dc-b's federation address as dc-a reaches it. */
  inventoryA(federationCert?: { readonly cert: string; readonly key: string }, signingKey?: string): string;
  /** Runs `carryover migrate --to-domain dc-b` as a library call from dc-a. */
  migrate(migrationId: string, o?: { readonly pauseDeadlineMs?: number; readonly onDeadline?: 'abort' | 'continue'; readonly federationCert?: { readonly cert: string; readonly key: string }; readonly signingKey?: string; readonly ignoreDestinationFlows?: boolean; readonly peerIdentity?: string }): Promise<MigrationOutcome>;
  stop(): Promise<void>;
}

const inProcess = (apis: Readonly<Record<string, DeviceApi>>): DeviceConnector => async (devices): Promise<ConnectedDevices> => ({
  apis: new Map(devices.map((d) => [d.name, apis[d.name] as DeviceApi])),
  // The device APIs belong to the site: a controller letting go of them leaves them running.
  stop: async () => undefined,
});

/** Starts both domains' switches, plugins, device APIs, and dc-b's federation service. */
export async function startTwoDomains(o: TwoDomainOptions = {}): Promise<TwoDomains> {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-two-domains-'));
  const pki = new TestPki();
  const a = makeDomainFiles(pki, dir, 'dc-a');
  const b = makeDomainFiles(pki, dir, 'dc-b');
  const [src, dst] = await Promise.all([startEdgeRig({ profile: 'full', topology: false }), startEdgeRig({ profile: 'full', topology: false, ...o.destination })]);
  await Promise.all([topology(src.sw, SRC_ID), topology(dst.sw, DST_ID)]);
  // The slot index learns the VM's flows from digests: the APIs listen from before the first flow.
  const srcApi = createDeviceApi(src.plugin, { name: 'edge-a', snapshotSource: 'index', reconcile: false, deltaIntervalMs: 10, ...newFlowDigestDelayFor('full') });
  const dstApi = createDeviceApi(dst.plugin, { name: 'edge-b', snapshotSource: 'index', reconcile: false, deltaIntervalMs: 10 });
  await Promise.all([srcApi.ready(), dstApi.ready()]);
  const journalA = new MemoryJournal();
  const journalB = new MemoryJournal();
  const invB = parseInventory([
    'domain: dc-b',
    controllerYaml(b),
    federationYaml(b, '127.0.0.1:0'),
    peersYaml([{ files: a }]),
    'devices:',
    `  edge-b: { address: ${dst.sim.address}, deviceId: ${dst.sim.deviceId}, hosts: [host-b] }`,
    '',
  ].join('\n'), join(dir, 'dc-b.yaml'));
  const server = await serveFederation({ inventory: invB, defaultP4info: P4INFO_PATH, journal: journalB, ...(o.logger ? { logger: o.logger } : {}), ...(o.idleMs ? { idleMs: o.idleMs } : {}), connect: inProcess({ 'edge-b': o.wrapDestination ? o.wrapDestination(dstApi) : dstApi }) });
  const hop = o.between ? await o.between(server.address) : undefined;
  const inventoryA = (cert = a.controller, signingKey = a.signingKey): string => [
    'domain: dc-a',
    controllerYaml({ ...a, signingKey }),
    `federation: { tls: { cert: ${JSON.stringify(cert.cert)}, key: ${JSON.stringify(cert.key)} } }`,
    peersYaml([{ files: b, address: hop?.address ?? server.address }]),
    'devices:',
    `  edge-a: { address: ${src.sim.address}, deviceId: ${src.sim.deviceId}, hosts: [host-a] }`,
    'vms:',
    '  vm-7: { address: 10.0.0.5, host: host-a }',
    '',
  ].join('\n');
  const connectA = inProcess({ 'edge-a': o.wrapSource ? o.wrapSource(srcApi) : srcApi });
  return {
    dir, a, b, pki, src, dst, srcApi, dstApi, server, journalA, journalB, connectA,
    inventoryA,
    migrate: (migrationId, m = {}) => {
      const inv: Inventory = parseInventory(inventoryA(m.federationCert, m.signingKey), join(dir, 'dc-a.yaml'));
      return executeMigration({
        plan: planToPeer(inv, 'vm-7', 'host-a', 'dc-b', 'host-b'),
        trigger: { kind: 'manual' },
        migrationId,
        journal: journalA,
        journalDir: dir,
        defaultP4info: P4INFO_PATH,
        domain: inv.domain,
        ...(inv.controller ? { controller: inv.controller } : {}),
        crossDomain: { peer: { ...(inv.peers.get('dc-b') as InventoryPeer), ...(m.peerIdentity ? { identity: m.peerIdentity } : {}) }, federation: inv.federation as InventoryFederation },
        connect: connectA,
        pauseDeadlineMs: m.pauseDeadlineMs ?? 60_000,
        onDeadline: m.onDeadline ?? 'abort',
        ...(m.ignoreDestinationFlows ? { ignoreDestinationFlows: true } : {}),
        progress: () => undefined,
      });
    },
    stop: async () => {
      await hop?.close();
      await server.stop();
      srcApi.stop();
      dstApi.stop();
      await Promise.all([src.stop(), dst.stop()]);
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

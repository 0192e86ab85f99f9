/**
 * The 1:1 migration fixture shared by the device-API tests (in process and over the migration
 * protocol): a VM (10.0.0.5, switch-local id 7 at the source, 9 at the destination) with TCP flows
 * to one remote, its slots read straight from the sim's registers, and the two-device site.
 */
import type { P4Switch } from 'p4runtime-ts';
import { Subject } from 'rxjs';
import { MemoryJournal, MigrationEngine, MigrationMachine, parseInventory, planMigration } from '../controller/index.js';
import type { MigrationJournal } from '../controller/index.js';
import { createDeviceApi } from '../plugin/index.js';
import type { DeviceApi, EdgeDeviceApi, EdgeDeviceApiOptions, SlotGroupSpec } from '../plugin/index.js';
import type { SimProfileName, SimSwitch } from '../sim/index.js';
import { buildTcpFrame, buildUdpFrame } from '../sim/workload/index.js';
import { UPLINK, eventually, newFlowDigestDelayFor, startEdgeRig } from './edge-rig.js';
import type { EdgeRig } from './edge-rig.js';

/** The VM's address and the remote it talks to. */
export const VM_ADDR = 0x0a000005;
export const REMOTE = 0xc6336409;
/** The VM's switch-local ids: 7 at the source, 9 at the destination (remapped on import). */
export const SRC_ID = 7;
export const DST_ID = 9;

/** A segment from the VM to the remote on flow `port`. */
export const out = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array =>
  buildTcpFrame({ src: VM_ADDR, dst: REMOTE, srcPort: port, dstPort: 443, seq, ack, flags, window: 64240, payload });
/** A segment from the remote back to the VM on flow `port`. */
export const back = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array =>
  buildTcpFrame({ src: REMOTE, dst: VM_ADDR, srcPort: 443, dstPort: port, seq, ack, flags, window: 65160, payload });

/** A UDP request from the VM on `port` (the plugin learns a pinhole for it), and the reply. */
export const udpOut = (port: number): Uint8Array => buildUdpFrame({ src: VM_ADDR, dst: REMOTE, srcPort: port, dstPort: 53, payload: 40 });
export const udpIn = (port: number): Uint8Array => buildUdpFrame({ src: REMOTE, dst: VM_ADDR, srcPort: 53, dstPort: port, payload: 80 });

/** The VM's dyn_acl entries on a switch (VM id `vmId`): port and direct counter, by port. */
export async function pinholesOf(sw: P4Switch, vmId: number): Promise<{ port: bigint; packets: bigint; bytes: bigint }[]> {
  const all = await sw.readAll(sw.table('dyn_acl').all({ withCounters: true }));
  const key = (m: (typeof all)[number]['match'], name: string): bigint => {
    const k = m[name];
    return k !== undefined && 'value' in k ? k.value : -1n;
  };
  return all
    .filter((e) => key(e.match, 'vm_id') === BigInt(vmId))
    .map((e) => ({ port: key(e.match, 'vm_port'), packets: e.counter?.packets ?? 0n, bytes: e.counter?.bytes ?? 0n }))
    .sort((a, b) => Number(a.port - b.port));
}

/** Opens an ESTABLISHED flow on `port` (SYN, SYN+ACK, ACK); returns whether all three passed. */
export function establish(sim: SimSwitch, port: number): boolean {
  const a = sim.dataplane.inject(1, out(port, 1000, 0, 0x02)).kind;
  const b = sim.dataplane.inject(UPLINK, back(port, 9000, 1001, 0x12)).kind;
  const c = sim.dataplane.inject(1, out(port, 1001, 9001, 0x10)).kind;
  return a === 'forward' && b === 'forward' && c === 'forward';
}

/** The remote side's next data segment of flow `port` (its `n`-th, 10 bytes each). */
export const returnSegment = (port: number, n: number): Uint8Array => back(port, 9001 + 10 * n, 1001, 0x18, 10);

/** The VM's slots as the registers hold them (read in process: no switch operation counted). */
export function vmSlots(sim: SimSwitch, g: SlotGroupSpec, vmId: number): Map<number, bigint[]> {
  const found = new Map<number, bigint[]>();
  const vmWord = g.words[g.vm.word];
  for (let i = 0; i < g.slots; i++) {
    const w = sim.state.registerRead(vmWord?.register ?? '', i);
    if (((w >> BigInt(g.vm.lsb)) & ((1n << BigInt(g.vm.bits)) - 1n)) !== BigInt(vmId)) continue;
    const words = g.words.map((x) => sim.state.registerRead(x.register, i));
    if (((words[g.valid.word] ?? 0n) >> BigInt(g.valid.lsb)) & ((1n << BigInt(g.valid.bits)) - 1n)) found.set(i, words);
  }
  return found;
}

/** Port roles and a VM map giving 10.0.0.5 the id `vmId` on port 1. */
export async function topology(sw: P4Switch, vmId: number): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    sw.table('port_role').insert({ match: { port: 1 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
    sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: vmId, port: 1 } }),
  ]);
}

/** The inventory of a two-device site: `src` in front of host-a (where vm-7 runs), `dst` in front of host-b. */
export const site = (src: string, dst: string): string => `
devices:
  src: { address: ${src}, deviceId: 1, hosts: [host-a] }
  dst: { address: ${dst}, deviceId: 1, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

/** A source and a destination switch with the VM's topology, each with a listening device API. */
export interface MigrationPair {
  readonly src: EdgeRig;
  readonly dst: EdgeRig;
  readonly srcApi: EdgeDeviceApi;
  readonly dstApi: EdgeDeviceApi;
  /** Stops both device APIs, then both switches. */
  stop(): Promise<void>;
}

/**
 * Both rigs on `profile`, the VM mapped to SRC_ID and DST_ID, and device APIs reading the VM's
 * slots through the index (which learns them from digests: it listens before the first flow).
 */
export async function startMigrationPair(profile: SimProfileName, srcOptions: EdgeDeviceApiOptions = {}, dstOptions: EdgeDeviceApiOptions = {}): Promise<MigrationPair> {
  const src = await startEdgeRig({ profile, topology: false });
  const dst = await startEdgeRig({ profile, topology: false });
  await topology(src.sw, SRC_ID);
  await topology(dst.sw, DST_ID);
  const srcApi = createDeviceApi(src.plugin, { name: 'src', snapshotSource: 'index', reconcile: false, ...newFlowDigestDelayFor(profile), ...srcOptions });
  const dstApi = createDeviceApi(dst.plugin, { name: 'dst', snapshotSource: 'index', reconcile: false, ...newFlowDigestDelayFor(profile), ...dstOptions });
  await Promise.all([srcApi.ready(), dstApi.ready()]);
  return {
    src, dst, srcApi, dstApi,
    async stop() {
      srcApi.stop();
      dstApi.stop();
      await src.stop();
      await dst.stop();
    },
  };
}

/** A journal event, as the engine records it. */
export type JournalEvent = Awaited<ReturnType<MigrationJournal['load']>>[number];

/** What engineMigration runs. */
export interface EngineMigration {
  /** The switches' addresses, for the inventory `site()` writes (the engine itself talks to `src` and `dst`). */
  readonly addresses: readonly [string, string];
  /** The device APIs under the plan's names 'src' and 'dst' (swapped for the way back: each finds the VM by its address). */
  readonly src: DeviceApi;
  readonly dst: DeviceApi;
  readonly migrationId: string;
  /** Pre-copy ends once this holds of the journal (at once when absent). */
  readonly until?: (events: readonly JournalEvent[]) => boolean;
  readonly intervalMs?: number;
}

/**
 * vm-7 of `site()` migrated from 'src' to 'dst' through the engine and committed; each round's
 * slots returned (round 0: the snapshot).
 * @throws Error when `until` does not hold within 60 s, or the pause lost state.
 */
export async function engineMigration(o: EngineMigration): Promise<Map<number, number>> {
  const journal = new MemoryJournal();
  const plan = planMigration(parseInventory(site(o.addresses[0], o.addresses[1]), 'site.yaml'), 'vm-7', 'host-a', 'host-b');
  const machine = await MigrationMachine.plan({ migrationId: o.migrationId, vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal, now: () => Date.now() });
  const engine = new MigrationEngine({ plan, machine, devices: new Map([['src', o.src], ['dst', o.dst]]), pauseDeadlineMs: 30_000, precopy: { intervalMs: o.intervalMs ?? 10, policy: { maxRounds: 100_000, convergedAtSlots: -1 } }, graceMs: 0 });
  await engine.prepare();
  const stop$ = new Subject<void>();
  const running = engine.precopy(stop$);
  const until = o.until;
  if (until && !(await eventually(async () => until(await journal.load(o.migrationId)), 60_000))) throw new Error(`migration ${o.migrationId}: pre-copy's journal never met the test's condition`);
  stop$.next();
  await running;
  const lost = (await engine.pauseSync()).lost;
  if (lost !== undefined) throw new Error(`migration ${o.migrationId}: the pause lost state: ${JSON.stringify(lost)}`);
  await engine.commit();
  const rounds = new Map<number, number>();
  for (const e of await journal.load(o.migrationId)) if (e.type === 'round') rounds.set(e.round, e.slots);
  return rounds;
}

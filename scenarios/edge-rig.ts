/**
 * A sim switch running stateful_edge with an edge plugin in front of it, for the cross-package
 * tests: start both, lay out VM ports and the uplink, and inject traffic — through the plugin's
 * P4Runtime session (PacketOut op 0, as a lab does on BMv2) or straight into the sim's data plane
 * for bulk setup.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema, parseIPv4, silentLogger, systemClock } from 'p4runtime-ts';
import type { CredentialsOption, P4Switch } from 'p4runtime-ts';
import { chooseRegisterAccess, createEdgePlugin } from '../plugin/index.js';
import type { EdgePlugin, EdgePluginOptions, RegisterAccess } from '../plugin/index.js';
import { minimalBmv2Json, simProfile, startSimSwitch } from '../sim/index.js';
import type { Scheduler, SimProfileName, SimSwitch, SimSwitchOptions } from '../sim/index.js';
import { injectMetadata } from '../sim/programs/stateful-edge/inband.js';
import { variantP4InfoText } from '../sim/programs/stateful-edge/index.js';
import type { CtGeometry } from '../sim/programs/stateful-edge/index.js';
import { generateWorkload } from '../sim/workload/index.js';
import type { WorkloadFlow, WorkloadOptions, WorkloadPacket } from '../sim/workload/index.js';

/** p4/stateful_edge.p4info.txtpb. */
export const P4INFO_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'p4', 'stateful_edge.p4info.txtpb');
/** p4/stateful_edge.json: p4c's BMv2 JSON of stateful_edge, the device config pushed to a real BMv2. */
export const BMV2_JSON_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'p4', 'stateful_edge.json');
/** The stateful_edge P4Info, read once. */
export const SCHEMA = P4Schema.fromFile(P4INFO_PATH);

/** The VMs of the tests: address, port, switch-local id. */
export const VMS = [
  { addr: '10.0.0.5', port: 1, id: 7 },
  { addr: '10.0.0.6', port: 2, id: 8 },
  { addr: '10.0.1.9', port: 3, id: 21 },
  { addr: '10.0.2.4', port: 4, id: 300 },
] as const;
/** The uplink port (towards remote hosts). */
export const UPLINK = 100;

/** The device config a profile accepts: BMv2 wants a BMv2 JSON, the others take anything. */
export function deviceConfigFor(profile: SimProfileName): Uint8Array {
  return profile === 'bmv2' ? minimalBmv2Json('stateful_edge', SCHEMA.tables.map((t) => t.name)) : new TextEncoder().encode('stateful_edge');
}

/** A sim plus a started plugin. */
export interface EdgeRig {
  readonly sim: SimSwitch;
  readonly plugin: EdgePlugin;
  /** The plugin's P4Runtime session (the primary: only it may send PacketOut). */
  readonly sw: P4Switch;
  stop(): Promise<void>;
}

/**
 * The device API's `newFlowDigestDelayMs` for a sim profile: where the profile flushes a digest list
 * at its 1 ms timeout (`spec`) 10 ms leaves room; where it keeps BMv2's 200–330 ms, the default.
 */
export function newFlowDigestDelayFor(profile: SimProfileName): { readonly newFlowDigestDelayMs?: number } {
  return simProfile(profile).digests.timing === 'spec' ? { newFlowDigestDelayMs: 10 } : {};
}

/** Options of `startEdgeRig`. */
export interface EdgeRigOptions {
  readonly profile: SimProfileName;
  readonly scheduler?: Scheduler;
  readonly idleScanIntervalMs?: number;
  readonly plugin?: Partial<EdgePluginOptions>;
  /** Install port roles and the VM map (default true). */
  readonly topology?: boolean;
  /** P4Runtime over TLS: what the sim serves with, and what the rig's own plugin connects with. */
  readonly tls?: { readonly server: SimSwitchOptions['credentials']; readonly client: CredentialsOption };
  /** Run a variant of stateful_edge (another size, other hashes, a wider last_seen): its P4Info pushed, which the sim's model reads its geometry from. */
  readonly variant?: CtGeometry;
}

/** The P4Info of a stateful_edge variant (p4c's output for its -D options). */
export function variantSchema(g: CtGeometry): P4Schema {
  return P4Schema.fromText(variantP4InfoText(readFileSync(P4INFO_PATH, 'utf8'), g), `stateful_edge variant (${g.slots} slots, ${g.regions.map((r) => r.algo).join('/')})`);
}

/** Starts a sim running stateful_edge and a plugin attached to it. */
export async function startEdgeRig(o: EdgeRigOptions): Promise<EdgeRig> {
  const sim = await startSimSwitch({
    profile: o.profile,
    program: 'stateful_edge',
    ...(o.scheduler ? { scheduler: o.scheduler } : {}),
    ...(o.idleScanIntervalMs ? { idleScanIntervalMs: o.idleScanIntervalMs } : {}),
    ...(o.tls ? { credentials: o.tls.server } : {}),
  });
  const plugin = createEdgePlugin({
    address: sim.address,
    deviceId: sim.deviceId,
    electionId: 10n,
    p4info: o.variant ? variantSchema(o.variant) : SCHEMA,
    deviceConfig: deviceConfigFor(o.profile),
    // The in-process sim shares two busy cores with the test: give in-band answers more time
    // than on a dedicated switch (a retry would be harmless, but slow tests down).
    inband: { timeoutMs: 1_000 },
    ...(o.tls ? { credentials: o.tls.client } : {}),
    ...o.plugin,
  });
  try {
    await plugin.start();
  } catch (e) {
    await plugin.stop();
    await sim.stop();
    throw e;
  }
  if (o.topology !== false) await installTopology(plugin.session);
  return {
    sim,
    plugin,
    sw: plugin.session,
    stop: async () => {
      await plugin.stop();
      await sim.stop();
    },
  };
}

/** Port roles (VM ports → uplink, uplink) and the VM map, for VMS. */
export async function installTopology(sw: P4Switch): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    ...VMS.map((vm) => sw.table('port_role').insert({ match: { port: vm.port }, action: 'vm_port_role', params: { uplink_port: UPLINK } })),
    ...VMS.map((vm) => sw.table('vm_table').insert({ match: { vm_addr: vm.addr }, action: 'set_vm', params: { vm_id: vm.id, port: vm.port } })),
  ]);
}

/** Sends a frame into the pipeline through PacketOut (op INJECT), entering on `port`. */
export function injectViaPacketOut(sw: P4Switch, port: number, frame: Uint8Array): void {
  sw.packetOut(frame, injectMetadata(port));
}

/** A frame and the port it enters the pipeline on. */
export interface InjectedFrame {
  readonly port: number;
  readonly payload: Uint8Array;
}

/**
 * Sends frames into the pipeline by PacketOut in batches of `batch`, each closed by an in-band
 * READ_EPOCH on `barrier` — answered only once the pipeline ran the batch (the stream is FIFO) —
 * so the switch's queue stays bounded and every frame has passed when this resolves.
 */
export async function injectInBatches(sw: P4Switch, barrier: Pick<RegisterAccess, 'readEpoch'>, frames: readonly InjectedFrame[], batch: number): Promise<void> {
  for (let i = 0; i < frames.length; i += batch) {
    for (const f of frames.slice(i, i + batch)) injectViaPacketOut(sw, f.port, f.payload);
    await barrier.readEpoch();
  }
}

/**
 * An in-band register access of its own on the plugin's session: e.g. a barrier behind a whole
 * batch in the switch's queue (long timeout, no retry), beside the plugin's own backend.
 */
export function inbandAccess(plugin: EdgePlugin, inband: { readonly window: number; readonly timeoutMs: number; readonly maxAttempts: number }): Promise<RegisterAccess> {
  return chooseRegisterAccess({ sw: plugin.session, contract: plugin.contract, group: plugin.group, mode: 'inband', inband, clock: systemClock, logger: silentLogger });
}

/** The workload's packets and flows, materialised. */
export interface Workload {
  readonly packets: readonly WorkloadPacket[];
  readonly flows: readonly WorkloadFlow[];
}

/** Generates a workload over VMS and the uplink (seeded: the same packets every run). */
export function makeWorkload(options: Partial<WorkloadOptions>): Workload {
  const packets = [...generateWorkload({ vms: VMS.map((v) => ({ addr: v.addr, port: v.port })), uplinkPort: UPLINK, ...options })];
  const flows = new Map<number, WorkloadFlow>();
  for (const p of packets) flows.set(p.flow.id, p.flow);
  return { packets, flows: [...flows.values()] };
}

/** Injects packets straight into the sim's data plane (bulk setup); returns how many were forwarded. */
export function injectBulk(sim: SimSwitch, packets: readonly WorkloadPacket[]): number {
  let forwarded = 0;
  for (const p of packets) if (sim.dataplane.inject(p.ingressPort, p.payload).kind === 'forward') forwarded++;
  return forwarded;
}

/** The VM id of a VM address of VMS. */
export function vmIdOf(addr: number | string): number {
  const a = typeof addr === 'string' ? Number(parseIPv4(addr)) : addr >>> 0;
  const vm = VMS.find((v) => Number(parseIPv4(v.addr)) === a);
  if (!vm) throw new Error(`no VM with address ${addr}`);
  return vm.id;
}

/** Polls `check` until it holds or `timeoutMs` passes (real time); returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

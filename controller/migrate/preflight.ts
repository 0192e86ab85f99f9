/**
 * `carryover migrate --check`: what a migration would meet if it started now, found by reading
 * only. Every device of the plan is reached as the migration would reach it and asked its
 * capabilities and what it holds of the VM (DeviceApi.footprint); then the checks the engine makes
 * at prepare (capability claims, schema negotiation) and the ones prepare would fail on later (the
 * VM mapped and running at the sources, mapped at the destinations, no migration of it under way,
 * room at the destinations). Nothing is prepared, staged or frozen.
 */
import type { DeviceApi, DeviceCapabilities, VmFootprint } from '../../plugin/index.js';
import { negotiateMigrationSchemas } from '../../plugin/index.js';
import { explainTransport } from '../devices/transport-cause.js';
import { ControllerError, isFailureReason } from '../errors.js';
import type { InventoryDevice } from '../inventory/inventory.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { checkCapacityClaim } from '../engine/capacity.js';
import { vmSeenAtDestinations, unfinishedMessage, vmSeenMessage } from '../engine/vm-whereabouts.js';

/** One connected device, and how to let go of it. */
export interface CheckedDevice {
  readonly api: DeviceApi;
  stop(): Promise<void>;
}

/** Reaches one device of the plan as the migration would. */
export type CheckConnector = (d: InventoryDevice) => Promise<CheckedDevice>;

/** What one device answered. */
export interface DeviceCheck {
  readonly name: string;
  readonly role: 'source' | 'destination';
  /** How it is reached: its plugin daemon, or P4Runtime from this process. */
  readonly via: string;
  readonly capabilities?: DeviceCapabilities;
  /** Absent: the device cannot tell (a daemon that predates the question), or it failed. */
  readonly footprint?: VmFootprint;
  /** Why it could not be asked. */
  readonly failure?: { readonly reason: string; readonly detail: string };
}

/** A problem a migration started now would fail on (`refuse`), or something worth knowing (`note`). */
export interface CheckFinding {
  readonly severity: 'refuse' | 'note';
  /** A failure reason (refuse) or a short tag (note). */
  readonly reason: string;
  readonly detail: string;
}

/** Room at one destination. */
export interface RoomAt {
  readonly device: string;
  /** Slots the VM's flows need there; absent: not known before the snapshot. */
  readonly needs?: number;
  readonly free: number;
  /** Whether `free` is exact (the device's slot index is complete) rather than an upper bound. */
  readonly exact: boolean;
}

/** The check's answer. */
export interface PreflightReport {
  /** No finding would refuse the migration. */
  readonly ready: boolean;
  readonly devices: readonly DeviceCheck[];
  /** The schema verdict, when every device answered. */
  readonly schema?: { readonly translations: readonly string[]; readonly reasons: readonly string[] };
  /** Slots each destination needs (when the sources could count the VM's) and has free. */
  readonly room: readonly RoomAt[];
  readonly findings: readonly CheckFinding[];
}

/** The reason an error stands for: a device's own reason where it gave one. */
function reasonOf(e: unknown): string {
  const r = (e as { reason?: unknown }).reason;
  if (typeof r === 'string' && (isFailureReason(r) || r === 'UNAUTHORIZED')) return r;
  return ControllerError.from(e).code;
}

const viaOf = (d: InventoryDevice): string => (d.plugin ? `plugin daemon ${d.plugin.address}` : `P4Runtime ${d.address ?? '?'} (in process)`);

/** Asks one device; never throws (a failure is its answer). */
async function ask(d: InventoryDevice, role: DeviceCheck['role'], vm: string, connect: CheckConnector, awaitScan: boolean, via?: PreflightOptions['via']): Promise<DeviceCheck> {
  const base = { name: d.name, role, via: via?.(d.name) ?? viaOf(d) };
  let c: CheckedDevice;
  try {
    c = await connect(d);
  } catch (e) {
    return { ...base, failure: { reason: reasonOf(e), detail: explainTransport((e as Error).message) } };
  }
  try {
    const capabilities = await c.api.capabilities();
    const footprint = await c.api.footprint?.(vm, awaitScan ? { awaitScan } : undefined);
    return { ...base, capabilities, ...(footprint ? { footprint } : {}) };
  } catch (e) {
    return { ...base, failure: { reason: reasonOf(e), detail: explainTransport((e as Error).message) } };
  } finally {
    await c.stop().catch(() => undefined);
  }
}

/** What the check is told of the migration beyond its plan. */
export interface PreflightOptions {
  /** The migration would run with --ignore-destination-flows: the VM seeming to run at a destination is a note, not a refusal. */
  readonly ignoreDestinationFlows?: boolean;
  /** Wait for each in-process plugin's scan of its slot group, so every device counts the VM's slots (seconds on a large switch). */
  readonly awaitScan?: boolean;
  /** How the state would move: peer to peer, each source daemon calls the destinations' (trust and client certificates checked). */
  readonly transfer?: 'controller' | 'peer-to-peer';
  /** How a device is reached when not as the inventory says (a peer domain's destinations); undefined: as the inventory says. */
  readonly via?: (name: string) => string | undefined;
}

/**
 * Checks a planned migration against its devices as they are now, reading only.
 * @example
 * const r = await preflightMigration(plan, (d) => connectOne(d));
 * if (!r.ready) for (const f of r.findings) console.error(f.reason, f.detail);
 */
export async function preflightMigration(plan: MigrationPlan, connect: CheckConnector, o: PreflightOptions = {}): Promise<PreflightReport> {
  const vm = plan.vm.address;
  const devices = await Promise.all([
    ...plan.sources.map((d) => ask(d, 'source', vm, connect, o.awaitScan === true)),
    ...plan.destinations.map((d) => ask(d, 'destination', vm, connect, o.awaitScan === true, o.via)),
  ]);
  const findings: CheckFinding[] = [];
  const refuse = (reason: string, detail: string): number => findings.push({ severity: 'refuse', reason, detail });
  const note = (reason: string, detail: string): number => findings.push({ severity: 'note', reason, detail });
  for (const d of devices) {
    if (d.failure) refuse(d.failure.reason, `${d.name} (${d.via}): ${d.failure.detail}`);
    else if (d.capabilities) {
      try {
        checkCapacityClaim(d.name, d.capabilities);
      } catch (e) {
        refuse(reasonOf(e), (e as Error).message);
      }
    }
  }
  const answered = devices.filter((d) => d.capabilities !== undefined);
  let schema: PreflightReport['schema'];
  if (answered.length === devices.length) {
    const capsOf = (role: DeviceCheck['role']): DeviceCapabilities[] => devices.filter((d) => d.role === role).map((d) => d.capabilities as DeviceCapabilities);
    const v = negotiateMigrationSchemas(capsOf('source'), capsOf('destination'));
    schema = { translations: v.translations, reasons: v.reasons };
    if (v.reasons.length > 0) refuse('SCHEMA_MISMATCH', `the pipelines cannot hold the same state: ${v.reasons.join('; ')}`);
  }
  vmFindings(plan, devices, refuse, note);
  const counts = devices.filter((d) => d.role === 'source').map((d) => d.footprint?.slots);
  const destinations = devices.filter((d) => d.role === 'destination');
  const seen = vmSeenAtDestinations(
    counts.every((n) => n !== undefined) ? counts.reduce((a, n) => a + n, 0) : undefined,
    new Map(destinations.map((d) => [d.name, d.footprint])),
    new Map(destinations.map((d) => [d.name, d.footprint?.slots])),
  );
  if (seen.length > 0) (o.ignoreDestinationFlows ? note : refuse)(o.ignoreDestinationFlows ? 'VM_AT_DESTINATION' : 'PEER_REJECTED', vmSeenMessage(`VM ${plan.vm.name} (${plan.vm.address})`, seen));
  if (o.transfer === 'peer-to-peer') peerFindings(plan, devices, refuse, note);
  const room = roomOf(plan, devices, refuse, note);
  return { ready: findings.every((f) => f.severity !== 'refuse'), devices, ...(schema ? { schema } : {}), room, findings };
}

type Say = (reason: string, detail: string) => number;

/** The VM as each device holds it: mapped, running at the sources, no migration under way. */
function vmFindings(plan: MigrationPlan, devices: readonly DeviceCheck[], refuse: Say, note: Say): void {
  const vm = `VM ${plan.vm.name} (${plan.vm.address})`;
  for (const d of devices) {
    if (d.failure) continue;
    const f = d.footprint;
    if (!f) {
      note('FOOTPRINT_UNKNOWN', `${d.name} cannot tell what it holds of the VM (its plugin daemon predates the question): the VM's mapping and slots there are checked at prepare`);
      continue;
    }
    if (f.vmId === undefined) {
      refuse('PEER_REJECTED', `${d.name}: ${vm} is not in the switch's VM map (vm_table); your controller lays the VM out there (its address → its id on this switch) before carryover can move it`);
      continue;
    }
    if (d.role === 'source' && !f.runsHere) {
      refuse('PEER_REJECTED', `${d.name}: ${vm} (id ${f.vmId} here) does not run on this switch: its control entry marks it left, as a migration away leaves it. Is the inventory's host for the VM out of date? Correct --from, or the VM's host in the inventory`);
    }
    if (f.migrations.length > 0) {
      refuse('VM_BUSY', `${d.name}: a migration of ${vm} is under way there (${f.migrations.join(', ')}): wait for it to end, or run carryover recover where it was started`);
    }
    if (f.unfinished) refuse('VM_BUSY', unfinishedMessage(d.name, vm, f.unfinished));
  }
}

/**
 * Peer to peer between daemons: each source's certificate must allow client authentication, and
 * each destination it sends to must list one of the source's names among its trusted callers —
 * else the destination refuses the transfer once the snapshot is read (field walkthrough 10).
 */
function peerFindings(plan: MigrationPlan, devices: readonly DeviceCheck[], refuse: Say, note: Say): void {
  const byName = new Map(devices.map((d) => [d.name, d]));
  const unknown = new Set<string>();
  const identity = (name: string) => {
    const c = byName.get(name)?.capabilities;
    if (c && !c.daemon) unknown.add(name);
    return c?.daemon;
  };
  for (const s of plan.sources.filter((d) => d.plugin)) {
    const sd = identity(s.name);
    if (!sd) continue;
    if (!sd.clientAuth) refuse('PEER_REJECTED', `${s.name}: its plugin daemon's certificate is not for client authentication (its extendedKeyUsage lacks clientAuth), yet peer to peer it calls the destinations' daemons as a client; reissue it with extendedKeyUsage serverAuth,clientAuth`);
    const counterpart = plan.counterparts.get(s.name);
    for (const t of counterpart !== undefined ? [counterpart] : plan.edgeDestinations.map((d) => d.name)) {
      const td = identity(t);
      if (td && !sd.identities.some((i) => td.trustedCallers.includes(i))) {
        refuse('PEER_REJECTED', `${t} does not trust ${s.name}'s plugin daemon as a caller: its certificate names ${sd.identities.join(', ') || 'nothing'}, ${t} trusts ${td.trustedCallers.join(', ')}; add ${sd.identities[0] ?? s.name} to ${t}'s migration.trustedCallers`);
      }
    }
  }
  if (unknown.size > 0) note('PEER_TRUST_UNKNOWN', `${[...unknown].join(', ')} cannot say who it is as a peer-to-peer party (its plugin daemon predates it): the sources' calls to the destinations are checked when they send`);
  // A source daemon that cannot freeze in its transfer makes the pause three calls from here, not one.
  const stepped = plan.sources.filter((d) => d.plugin && byName.get(d.name)?.capabilities && byName.get(d.name)?.capabilities?.transferFreezes !== true).map((d) => d.name);
  if (stepped.length > 0) note('PAUSE_NOT_PIPELINED', `${stepped.join(', ')}: its plugin daemon predates the one-call peer-to-peer pause (Capabilities.transfer_freezes): the controller freezes it and activates the destinations with calls of its own, a longer pause; upgrade the daemon to shorten it`);
}

/** Room: what each destination will need (when the sources counted the VM's slots) against its free slots. */
function roomOf(plan: MigrationPlan, devices: readonly DeviceCheck[], refuse: Say, note: Say): PreflightReport['room'] {
  const byName = new Map(devices.map((d) => [d.name, d]));
  const free = (name: string): number | undefined => byName.get(name)?.capabilities?.slots.free;
  const needs = new Map<string, number>();
  let edges = 0;
  const uncounted: string[] = [];
  for (const s of plan.sources) {
    const slots = byName.get(s.name)?.footprint?.slots;
    if (slots === undefined) {
      uncounted.push(s.name);
      continue;
    }
    const counterpart = plan.counterparts.get(s.name);
    if (counterpart !== undefined) needs.set(counterpart, (needs.get(counterpart) ?? 0) + slots);
    else edges += slots;
  }
  const edgeNames = plan.edgeDestinations.map((d) => d.name);
  // A source that failed is a finding already; one that answered without a count is this note.
  const unknown = uncounted.filter((n) => byName.get(n)?.failure === undefined);
  if (unknown.length > 0) note('SLOTS_UNKNOWN', `${unknown.join(', ')} cannot count the VM's slots without scanning the switch (its slot index is not complete yet): room at the destinations is checked after the snapshot; --scan waits for the scan`);
  const room: RoomAt[] = [];
  const inexact: string[] = [];
  if (edgeNames.length === 1) needs.set(edgeNames[0] as string, (needs.get(edgeNames[0] as string) ?? 0) + edges);
  for (const d of plan.destinations) {
    const f = free(d.name);
    if (f === undefined) continue;
    // A share counted while another source could not count its own would understate the need.
    const n = uncounted.length > 0 ? undefined : needs.get(d.name);
    const exact = byName.get(d.name)?.footprint?.indexComplete === true;
    if (!exact) inexact.push(d.name);
    room.push({ device: d.name, ...(n !== undefined ? { needs: n } : {}), free: f, exact });
    // An upper bound below the need is a refusal all the same.
    if (n !== undefined && n > f) refuse('CAPACITY_EXCEEDED', `${d.name} has ${exact ? '' : 'at most '}${f} free slots; the VM's flows need ${n} there`);
  }
  if (inexact.length > 0) note('FREE_UPPER_BOUND', `${inexact.join(', ')} count${inexact.length === 1 ? 's' : ''} free slots from a slot index not complete yet (a plugin in this process, or a daemon still scanning): an upper bound; the room is checked again after the snapshot`);
  // Several edges by a placement function: which flow goes where is known only at the snapshot.
  if (edgeNames.length > 1 && uncounted.length === 0) {
    const total = edgeNames.reduce((n, d) => n + (free(d) ?? 0), 0);
    if (edges > total) refuse('CAPACITY_EXCEEDED', `${edgeNames.join(', ')} have ${total} free slots together; the VM's flows need ${edges}`);
    else if (edgeNames.some((d) => (free(d) ?? 0) < edges)) note('ROOM_BY_PLACEMENT', `the VM's ${edges} flows fit ${edgeNames.join(' + ')} together; whether each share fits is known once placement runs on the snapshot`);
  }
  return room;
}

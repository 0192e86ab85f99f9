/**
 * The `--check` of `carryover migrate`: connects to the plan's devices the way the migration
 * would, asks them (preflight.ts), prints what it found and says whether a migration started now
 * would pass those checks. Exit 0 ready, 1 not ready.
 */
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi } from '../../plugin/index.js';
import { connectPlanDevices, controllerTicketIssuer } from '../devices/connect-plan-devices.js';
import type { TicketIssuer } from '../remote/ticket-issuer.js';
import type { Inventory } from '../inventory/inventory.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { CONTROLLER_ERROR_CODES, ControllerError } from '../errors.js';
import type { ControllerErrorCode } from '../errors.js';
import { checkPeerDomain } from '../federation/peer-domain-check.js';
import type { PeerDomainCheck } from '../federation/peer-domain-check.js';
import type { InventoryDevice } from '../inventory/inventory.js';
import { checkQemu } from '../trigger/qemu-check.js';
import type { QemuCheck } from '../trigger/qemu-check.js';
import type { MigrateTrigger } from './execute-migration.js';
import { preflightMigration } from './preflight.js';
import type { CheckConnector, PreflightReport } from './preflight.js';

/** The devices' report with the trigger's (QEMU's) and the peer domain's answers folded in. */
type CheckReport = PreflightReport & { readonly qemu?: QemuCheck; readonly peer?: PeerDomainCheck };

/** Asks the peer domain of a cross-domain plan (default: its federation service, checkPeerDomain). */
export type PeerChecker = (plan: MigrationPlan, awaitScan: boolean) => Promise<PeerDomainCheck>;

/** What runCheck needs. */
export interface CheckCommandOptions {
  readonly plan: MigrationPlan;
  readonly inventory: Inventory;
  readonly defaultP4info: string;
  readonly json: boolean;
  readonly stdout: (line: string) => void;
  /** With a QEMU trigger, its monitors are asked too. */
  readonly trigger?: MigrateTrigger;
  /** How devices are reached (default: as the migration reaches them). */
  readonly connect?: CheckConnector;
  /** The migration would run with --ignore-destination-flows (PreflightOptions). */
  readonly ignoreDestinationFlows?: boolean;
  /** --scan: wait for in-process slot indexes to count (PreflightOptions.awaitScan). */
  readonly awaitScan?: boolean;
  /** --transfer (PreflightOptions.transfer). */
  readonly transfer?: 'controller' | 'peer-to-peer';
  /** Why the VM cannot be migrated now by this controller's own records (its claim, its journal): reported as VM_BUSY. */
  readonly busy?: string;
  /** How a cross-domain plan's peer is asked (default: over federation, as the migration reaches it). */
  readonly peerCheck?: PeerChecker;
  readonly logger?: Logger;
}

/** The connector a migration would use, one device at a time (one unreachable device fails alone). */
export function planConnector(plan: MigrationPlan, inv: Inventory, defaultP4info: string, logger?: Logger): CheckConnector {
  const scope = { sources: plan.sources.map((d) => d.name), destinations: plan.destinations.map((d) => d.name) };
  // One issuer for every daemon (its key read once); made on first need, so a key that cannot be
  // read is the failure of each device that needs it, as in a migration.
  let tickets: TicketIssuer | undefined;
  return async (d) => {
    if (d.plugin && inv.controller) tickets ??= controllerTicketIssuer(inv.domain, inv.controller);
    // Reading only: an in-process device's deviceConfig is not pushed to a switch with none.
    const c = await connectPlanDevices([d], { defaultP4info, domain: inv.domain, controller: inv.controller, scope, pushPipeline: false, ...(tickets ? { tickets } : {}), ...(logger ? { logger } : {}) });
    return { api: c.apis.get(d.name) as DeviceApi, stop: () => c.stop() };
  };
}

/** The peer domain as the inventory trusts it, asked over federation. */
function federationChecker(inv: Inventory): PeerChecker {
  return async (plan, awaitScan) => {
    const peer = inv.peers.get(plan.toDomain as string);
    const address = peer?.address ?? '';
    if (!peer || !inv.federation) return { kind: 'failed', peer: plan.toDomain as string, address, reason: 'BAD_CONFIG', detail: `${inv.source}: ${!peer ? `domain '${plan.toDomain as string}' is not a peer (add it under 'peers')` : "no 'federation' section (this controller's certificate towards peers)"}` };
    return checkPeerDomain({ plan, peer, federation: inv.federation, awaitScan });
  };
}

/** Why a device could not be asked, as preflight reports it (its reason kept; one this side does not know, in the text). */
const failedWith = (reason: string, detail: string): ControllerError =>
  (CONTROLLER_ERROR_CODES as readonly string[]).includes(reason) ? new ControllerError(reason as ControllerErrorCode, detail) : new ControllerError('PEER_REJECTED', `${reason}: ${detail}`);

/**
 * The plan and connector the preflight runs with across domains: the destinations the peer would
 * plan, answered as it answered (a failed check stands as the peer domain failing; a peer that
 * predates the check, as no destination).
 */
function withPeerAnswer(plan: MigrationPlan, connect: CheckConnector, c: PeerDomainCheck): { plan: MigrationPlan; connect: CheckConnector; via: (name: string) => string | undefined } {
  const domain = plan.destinations[0] as InventoryDevice;
  const at = `domain ${c.peer} (federation ${c.address || 'no address'})`;
  if (c.kind === 'predates') return { plan: { ...plan, destinations: [], edgeDestinations: [], counterparts: new Map() }, connect, via: () => undefined };
  if (c.kind === 'failed') {
    return {
      plan,
      connect: async (d) => (d.name === domain.name ? Promise.reject(failedWith(c.reason, c.detail)) : connect(d)),
      via: (name) => (name === domain.name ? at : undefined),
    };
  }
  const byName = new Map(c.destinations.map((d) => [d.name, d]));
  const destinations = c.destinations.map((d): InventoryDevice => Object.freeze({ ...domain, name: d.name }));
  return {
    plan: { ...plan, destinations, edgeDestinations: destinations, counterparts: new Map() },
    connect: async (d) => {
      const answer = byName.get(d.name);
      if (!answer || plan.sources.some((s) => s.name === d.name)) return connect(d);
      if (answer.failure) throw failedWith(answer.failure.reason, `${c.peer} could not ask it: ${answer.failure.detail}`);
      const caps = answer.capabilities;
      if (!caps) throw failedWith('PEER_REJECTED', `${c.peer} answered without its capabilities`);
      const footprint = answer.footprint;
      const api = { capabilities: async () => caps, ...(footprint ? { footprint: async () => footprint } : {}) } as unknown as DeviceApi;
      return { api, stop: async () => undefined };
    },
    via: (name) => {
      const answer = byName.get(name);
      return answer ? `${at}, ${answer.via}` : undefined;
    },
  };
}

/** Runs the check and prints it; resolves with the exit code (0 ready, 1 not ready). */
export async function runCheck(o: CheckCommandOptions): Promise<number> {
  const awaitScan = o.awaitScan === true;
  const local = o.connect ?? planConnector(o.plan, o.inventory, o.defaultP4info, o.logger);
  // Across domains the peer's controller plans its destinations and asks them (federation Check).
  const peer = o.plan.toDomain ? await (o.peerCheck ?? federationChecker(o.inventory))(o.plan, awaitScan) : undefined;
  const { plan, connect, via } = peer ? withPeerAnswer(o.plan, local, peer) : { plan: o.plan, connect: local, via: undefined };
  const t = o.trigger;
  const [devices, qemu] = await Promise.all([
    preflightMigration(plan, connect, { ignoreDestinationFlows: o.ignoreDestinationFlows === true, awaitScan, ...(o.transfer ? { transfer: o.transfer } : {}), ...(via ? { via } : {}) }),
    t?.kind === 'qemu' ? checkQemu({ source: t.source, ...(t.destination ? { destination: t.destination } : {}), startsMigration: t.migrateUri !== undefined }) : undefined,
  ]);
  // QEMU's refusals are what the migration would end with: the trigger aborting it.
  const fromQemu = (qemu?.findings ?? []).map((f) => ({ severity: f.severity, reason: f.severity === 'refuse' ? 'ABORTED_BY_TRIGGER' : 'QEMU', detail: f.detail }));
  const fromPeer = peer?.kind === 'predates' ? [{ severity: 'note' as const, reason: 'PEER_CHECK_UNKNOWN', detail: `${peer.peer}'s controller predates the check (federation Check): it answered over mutual TLS with the identity configured, so it is reachable and trusts this domain; it checks its destinations when this one proposes the migration` }] : [];
  const fromJournal = o.busy !== undefined ? [{ severity: 'refuse' as const, reason: 'VM_BUSY', detail: o.busy.replace(/^VM_BUSY: /, '') }] : [];
  const r: CheckReport = { ...devices, findings: [...fromJournal, ...devices.findings, ...fromPeer, ...fromQemu], ready: devices.ready && fromJournal.length === 0 && fromQemu.every((f) => f.severity !== 'refuse'), ...(qemu ? { qemu } : {}), ...(peer ? { peer } : {}) };
  if (o.json) o.stdout(JSON.stringify(checkJson(plan, r)));
  else for (const l of checkLines(plan, r)) o.stdout(l);
  return r.ready ? 0 : 1;
}

/** The report as one JSON object. */
export function checkJson(plan: MigrationPlan, r: CheckReport): Record<string, unknown> {
  return {
    vm: plan.vm.name,
    from: plan.fromHost,
    to: plan.toHost,
    ...(plan.toDomain ? { toDomain: plan.toDomain } : {}),
    outcome: r.ready ? 'ready' : 'not-ready',
    devices: r.devices.map((d) => ({
      name: d.name,
      role: d.role,
      via: d.via,
      reachable: d.failure === undefined,
      ...(d.capabilities ? { slots: d.capabilities.slots, registerAccess: d.capabilities.registerAccess, deltas: d.capabilities.deltas } : {}),
      ...(d.footprint ? { vm: { id: d.footprint.vmId ?? null, runsHere: d.footprint.runsHere, slots: d.footprint.slots ?? null, migrations: d.footprint.migrations } } : {}),
      ...(d.failure ? { failure: d.failure } : {}),
    })),
    schema: r.schema ?? null,
    ...(r.peer ? { peerDomain: { name: r.peer.peer, address: r.peer.address, answered: r.peer.kind === 'answered', ...(r.peer.kind === 'predates' ? { predatesCheck: true } : {}) } } : {}),
    ...(r.qemu ? { qemu: { sourceStatus: r.qemu.sourceStatus ?? null, migration: r.qemu.migration ?? null, destinationStatus: r.qemu.destinationStatus ?? null } } : {}),
    room: r.room,
    problems: r.findings.filter((f) => f.severity === 'refuse').map(({ reason, detail }) => ({ reason, detail })),
    notes: r.findings.filter((f) => f.severity === 'note').map(({ reason, detail }) => ({ reason, detail })),
  };
}

/** The report as lines for a terminal. */
export function checkLines(plan: MigrationPlan, r: CheckReport): string[] {
  const lines = [`check: VM ${plan.vm.name} from ${plan.fromHost} to ${plan.toHost}${plan.toDomain ? ` in domain ${plan.toDomain}` : ''} (${plan.topology}), reading only`];
  for (const d of r.devices) {
    const head = `  ${d.name} (${d.role}, ${d.via}): `;
    if (d.failure) {
      lines.push(`${head}${d.failure.reason}`);
      continue;
    }
    const c = d.capabilities;
    const f = d.footprint;
    const vm = !f ? 'VM: cannot tell' : f.vmId === undefined ? 'VM not mapped' : `VM id ${f.vmId}${d.role === 'source' ? (f.runsHere ? ', runs here' : ', left this switch') : ''}, ${f.slots === undefined ? 'slots not counted (index incomplete)' : `${f.slots} slots`}`;
    lines.push(`${head}${vm}; ${c ? `${c.slots.free} of ${c.slots.total} slots free, registers over ${c.registerAccess}` : ''}`);
  }
  const p = r.peer;
  if (p?.kind === 'answered') lines.push(`  destinations: planned by domain ${p.peer}'s controller (federation ${p.address}), which asked them for this check`);
  else if (p?.kind === 'predates') lines.push(`  destinations: in domain ${p.peer}; its controller (federation ${p.address}) predates the check and checks them when this one proposes the migration`);
  if (r.schema) lines.push(`  schemas: ${r.schema.reasons.length > 0 ? 'cannot hold the same state' : r.schema.translations.length > 0 ? `compatible, translated (${r.schema.translations.join('; ')})` : 'identical'}`);
  const q = r.qemu;
  if (q) lines.push(`  QEMU: source ${q.sourceStatus === undefined ? 'not asked' : `'${q.sourceStatus}'`}${q.migration === undefined ? '' : `, migration ${q.migration}`}${q.destinationStatus === undefined ? '' : `; destination '${q.destinationStatus}'`}`);
  for (const x of r.room) lines.push(`  room at ${x.device}: ${x.needs === undefined ? 'need not known yet' : `needs ${x.needs}`}, ${x.exact ? '' : 'at most '}${x.free} free`);
  const problems = r.findings.filter((f) => f.severity === 'refuse');
  for (const f of r.findings.filter((x) => x.severity === 'note')) lines.push(`  note: ${f.detail}`);
  if (problems.length === 0) lines.push('READY: a migration started now would pass these checks (nothing was prepared, staged or frozen)');
  else {
    lines.push(`NOT READY: a migration started now would be refused (${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was prepared, staged or frozen):`);
    for (const f of problems) lines.push(`  ${f.reason}: ${f.detail}`);
  }
  return lines;
}

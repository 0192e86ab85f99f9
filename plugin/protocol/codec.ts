/**
 * Pure conversions between the device API's values and the migration protocol's messages. Every
 * bigint travels as unsigned big-endian bytes in shortest form, so values wider than 53 bits
 * arrive exactly. Decoding checks what protobuf cannot (non-empty names, known enumerations, no
 * field named twice, sane sizes) and refuses with PEER_REJECTED naming the message and field.
 */
import type { DaemonIdentity, DeviceCapabilities, FinalProof, ImportResult, MigrationRef, SlotRecordOut, StateBatch, StateClass, TableEntryRecord } from '../device-api/device-api.js';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';
import type { TransferMode, TransferProgress, TransferRequest } from '../device-api/peer-transfer.js';
import type { FlowPlacement } from '../device-api/split-batch.js';
import type { MigrationTicket, TicketClaims } from '../security/migration-ticket.js';
import type { WireMessage } from './wire.js';
import { bad, list, msg, oneOf, str, uint } from './wire-checks.js';
import { schemaDescriptionFromWire, schemaDescriptionToWire } from './schema-codec.js';

/** The widest value accepted on the wire (bytes): far beyond any register, small enough to parse cheaply. */
export const MAX_VALUE_BYTES = 256;


/** `v` as unsigned big-endian bytes, shortest form (zero is one 0x00 byte). */
export function bigintToWire(v: bigint, what: string): Uint8Array {
  if (typeof v !== 'bigint') throw bad(what, `expected a bigint, got ${typeof v}`);
  if (v < 0n) throw bad(what, `${v} is negative; the protocol carries unsigned values`);
  const hex = v.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

/** Bytes as an unsigned big-endian bigint; empty bytes are refused (a value is required). */
export function wireToBigint(b: unknown, what: string): bigint {
  if (!(b instanceof Uint8Array)) throw bad(what, 'expected bytes');
  if (b.length === 0) throw bad(what, 'the value is missing (empty bytes); zero is one 0x00 byte');
  if (b.length > MAX_VALUE_BYTES) throw bad(what, `${b.length} bytes is wider than any value the protocol carries (at most ${MAX_VALUE_BYTES})`);
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

/** Named values as FieldValue messages. */
function fieldsToWire(fields: Readonly<Record<string, bigint>>, what: string): WireMessage[] {
  return Object.entries(fields).map(([name, v]) => ({ name, value: bigintToWire(v, `${what} field '${name}'`) }));
}

/** FieldValue messages as named values; a name given twice is refused. */
function fieldsFromWire(v: unknown, what: string): Record<string, bigint> {
  const out = new Map<string, bigint>();
  for (const f of list(v, what)) {
    const m = msg(f, what);
    const name = str(m['name'], `${what} field name`);
    if (out.has(name)) throw bad(what, `field '${name}' appears twice`);
    out.set(name, wireToBigint(m['value'], `${what} field '${name}'`));
  }
  // From entries: an object given a slot's two dozen fields by keyed stores becomes a slow dictionary (slot-codec.ts).
  return Object.fromEntries(out);
}

/** A MigrationRef message. */
export const refToWire = (m: MigrationRef): WireMessage => ({ migrationId: m.migrationId, vm: m.vm });

/** A MigrationRef from its message. */
export function refFromWire(v: unknown): MigrationRef {
  const m = msg(v, 'MigrationRef');
  return { migrationId: str(m['migrationId'], 'MigrationRef.migration_id'), vm: str(m['vm'], 'MigrationRef.vm') };
}

/** A Ticket message. */
export function ticketToWire(t: MigrationTicket): WireMessage {
  const c = t.claims;
  return {
    claims: { migrationId: c.migrationId, vm: c.vm, sources: [...c.sources], destinations: [...c.destinations], notBeforeMs: c.notBeforeMs, expiresAtMs: c.expiresAtMs, nonce: c.nonce },
    signatures: t.signatures.map((s) => ({ signer: s.signer, signature: s.signature })),
  };
}

const ms = (v: unknown, what: string): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw bad(what, `expected Unix milliseconds, got ${String(v)}`);
  return n;
};

/** A ticket from its message; a missing ticket is refused as UNAUTHORIZED (the caller must present one). */
export function ticketFromWire(v: unknown): MigrationTicket {
  if (typeof v !== 'object' || v === null) throw new DeviceApiFailure('UNAUTHORIZED', 'migration ticket refused: the call carries no ticket; every call of a migration must present the ticket its coordinator issued');
  const m = v as WireMessage;
  const c = msg(m['claims'], 'Ticket.claims');
  const strings = (x: unknown, what: string): string[] => list(x, what).map((s, i) => str(s, `${what}[${i}]`));
  const claims: TicketClaims = {
    migrationId: str(c['migrationId'], 'Ticket.claims.migration_id'),
    vm: str(c['vm'], 'Ticket.claims.vm'),
    sources: strings(c['sources'], 'Ticket.claims.sources'),
    destinations: strings(c['destinations'], 'Ticket.claims.destinations'),
    notBeforeMs: ms(c['notBeforeMs'], 'Ticket.claims.not_before_ms'),
    expiresAtMs: ms(c['expiresAtMs'], 'Ticket.claims.expires_at_ms'),
    nonce: str(c['nonce'], 'Ticket.claims.nonce'),
  };
  const signatures = list(m['signatures'], 'Ticket.signatures').map((s, i) => {
    const x = msg(s, `Ticket.signatures[${i}]`);
    return { signer: str(x['signer'], `Ticket.signatures[${i}].signer`), signature: str(x['signature'], `Ticket.signatures[${i}].signature`) };
  });
  return { claims, signatures };
}

const STATE_CLASSES: readonly StateClass[] = ['tcp-state', 'dynamic-acl', 'counters'];

/** A Capabilities message. */
export function capabilitiesToWire(c: DeviceCapabilities, protocolVersion: number): WireMessage {
  return {
    device: c.device,
    apiVersion: c.apiVersion,
    stateClasses: [...c.stateClasses],
    schema: { ...c.schema },
    slotsTotal: c.slots.total,
    slotsFree: c.slots.free,
    registerAccess: c.registerAccess,
    deltas: [...c.deltas],
    quietReports: c.quietReports === true,
    transferFreezes: c.transferFreezes === true,
    abortCleansActive: c.abortCleansActive === true,
    maxConcurrentMigrations: c.maxConcurrentMigrations,
    keyFields: c.keyFields.map((k) => ({ name: k.name, bits: k.bits })),
    registers: (c.registers ?? []).map((r) => ({ name: r.name, bits: r.bits })),
    ...(c.schemaDescription ? { schemaDescription: schemaDescriptionToWire(c.schemaDescription) } : {}),
    ...(c.daemon ? { identities: [...c.daemon.identities], clientAuth: c.daemon.clientAuth, trustedCallers: [...c.daemon.trustedCallers] } : {}),
    protocolVersion,
  };
}

/** Capabilities' daemon part (identities, client_auth, trusted_callers): none from an older peer. */
function daemonFromWire(m: Record<string, unknown>): { daemon?: DaemonIdentity } {
  const identities = list(m['identities'] ?? [], 'Capabilities.identities').map((s, i) => str(s, `Capabilities.identities[${i}]`));
  if (identities.length === 0) return {};
  const trustedCallers = list(m['trustedCallers'] ?? [], 'Capabilities.trusted_callers').map((s, i) => str(s, `Capabilities.trusted_callers[${i}]`));
  return { daemon: { identities, clientAuth: m['clientAuth'] === true, trustedCallers } };
}

/** Capabilities from their message, and the protocol version the peer speaks. */
export function capabilitiesFromWire(v: unknown): { readonly capabilities: DeviceCapabilities; readonly protocolVersion: number } {
  const m = msg(v, 'Capabilities');
  const apiVersion = uint(m['apiVersion'], 'Capabilities.api_version');
  if (apiVersion !== 1) throw new DeviceApiFailure('PEER_REJECTED', `the peer speaks device API version ${apiVersion}; this side speaks 1`);
  const schema = msg(m['schema'], 'Capabilities.schema');
  for (const [k, fp] of Object.entries(schema)) str(fp, `Capabilities.schema['${k}']`);
  const named = (v: unknown, what: string): { name: string; bits: number }[] =>
    list(v, what).map((k, i) => {
      const x = msg(k, `${what}[${i}]`);
      return { name: str(x['name'], `${what}[${i}].name`), bits: uint(x['bits'], `${what}[${i}].bits`) };
    });
  const registers = named(m['registers'], 'Capabilities.registers');
  const description = m['schemaDescription'] == null ? undefined : schemaDescriptionFromWire(m['schemaDescription'], 'Capabilities.schema_description');
  const capabilities: DeviceCapabilities = {
    device: str(m['device'], 'Capabilities.device'),
    apiVersion: 1,
    stateClasses: list(m['stateClasses'], 'Capabilities.state_classes').map((s) => oneOf(s, STATE_CLASSES, 'Capabilities.state_classes')),
    schema: schema as Record<string, string>,
    slots: { total: uint(m['slotsTotal'], 'Capabilities.slots_total'), free: uint(m['slotsFree'], 'Capabilities.slots_free') },
    registerAccess: oneOf(m['registerAccess'], ['p4runtime', 'inband'] as const, 'Capabilities.register_access'),
    deltas: list(m['deltas'], 'Capabilities.deltas').map((d) => oneOf(d, ['push', 'pull'] as const, 'Capabilities.deltas')),
    ...(m['quietReports'] === true ? { quietReports: true } : {}),
    ...(m['transferFreezes'] === true ? { transferFreezes: true } : {}),
    ...(m['abortCleansActive'] === true ? { abortCleansActive: true } : {}),
    maxConcurrentMigrations: uint(m['maxConcurrentMigrations'], 'Capabilities.max_concurrent_migrations'),
    keyFields: named(m['keyFields'], 'Capabilities.key_fields'),
    ...(registers.length > 0 ? { registers } : {}),
    ...(description ? { schemaDescription: description } : {}),
    ...daemonFromWire(m),
  };
  return { capabilities, protocolVersion: uint(m['protocolVersion'], 'Capabilities.protocol_version') };
}

/** Named counter values as CounterValue messages. */
export function countersToWire(c: Readonly<Record<string, { readonly packets: bigint; readonly bytes: bigint }>>): WireMessage[] {
  return Object.entries(c).map(([name, v]) => ({ name, packets: bigintToWire(v.packets, `counter '${name}' packets`), bytes: bigintToWire(v.bytes, `counter '${name}' bytes`) }));
}

/** Named counter values from CounterValue messages (`where` names the field); a name given twice is refused. */
export function countersFromWire(v: unknown, where: string): Record<string, { packets: bigint; bytes: bigint }> {
  const counters: Record<string, { packets: bigint; bytes: bigint }> = {};
  for (const [i, c] of list(v, where).entries()) {
    const x = msg(c, `${where}[${i}]`);
    const name = str(x['name'], `${where}[${i}].name`);
    if (Object.hasOwn(counters, name)) throw bad(where, `counter '${name}' appears twice`);
    counters[name] = { packets: wireToBigint(x['packets'], `counter '${name}' packets`), bytes: wireToBigint(x['bytes'], `counter '${name}' bytes`) };
  }
  return counters;
}

/** A StateBatch message. */
export function batchToWire(b: StateBatch): WireMessage {
  return {
    migrationId: b.migrationId,
    round: b.round,
    slots: b.slots.map((s, i) => ({ fields: fieldsToWire(s.fields, `slot ${i}`) })),
    removed: b.removed.map((k, i) => ({ fields: fieldsToWire(k, `removed key ${i}`) })),
    coversFrom: bigintToWire(b.coversSeq.from, 'coversSeq.from'),
    coversTo: bigintToWire(b.coversSeq.to, 'coversSeq.to'),
    counters: countersToWire(b.counters ?? {}),
    hasCounters: b.counters !== undefined,
    ...(b.clock !== undefined ? { clock: bigintToWire(b.clock, 'clock'), hasClock: true } : { hasClock: false }),
    source: b.source ?? '',
    tableEntries: (b.tableEntries ?? []).map((e, i) => ({
      table: e.table,
      match: fieldsToWire(e.match, `table entry ${i}`),
      action: e.action,
      remainingNs: bigintToWire(e.remainingNs, `table entry ${i} remaining lifetime`),
      ...(e.counter ? { hasCounter: true, packets: bigintToWire(e.counter.packets, `table entry ${i} packets`), bytes: bigintToWire(e.counter.bytes, `table entry ${i} bytes`) } : { hasCounter: false }),
    })),
    hasTableEntries: b.tableEntries !== undefined,
    proof: b.proof ?? '',
  };
}

function tableEntriesFromWire(v: unknown): TableEntryRecord[] {
  return list(v, 'StateBatch.table_entries').map((x, i) => {
    const e = msg(x, `StateBatch.table_entries[${i}]`);
    const where = `StateBatch.table_entries[${i}]`;
    return {
      table: str(e['table'], `${where}.table`),
      match: fieldsFromWire(e['match'], `${where}.match`),
      action: str(e['action'], `${where}.action`),
      remainingNs: wireToBigint(e['remainingNs'], `${where}.remaining_ns`),
      ...(e['hasCounter'] === true ? { counter: { packets: wireToBigint(e['packets'], `${where}.packets`), bytes: wireToBigint(e['bytes'], `${where}.bytes`) } } : {}),
    };
  });
}

/** A StateBatch from its message. */
export function batchFromWire(v: unknown): StateBatch {
  const m = msg(v, 'StateBatch');
  const slots: SlotRecordOut[] = list(m['slots'], 'StateBatch.slots').map((s, i) => ({ fields: fieldsFromWire(msg(s, `StateBatch.slots[${i}]`)['fields'], `StateBatch.slots[${i}]`) }));
  const removed = list(m['removed'], 'StateBatch.removed').map((k, i) => fieldsFromWire(msg(k, `StateBatch.removed[${i}]`)['fields'], `StateBatch.removed[${i}]`));
  const from = wireToBigint(m['coversFrom'], 'StateBatch.covers_from');
  const to = wireToBigint(m['coversTo'], 'StateBatch.covers_to');
  if (to < from) throw bad('StateBatch', `covers_to ${to} is before covers_from ${from}`);
  const counters = m['hasCounters'] === true ? countersFromWire(m['counters'], 'StateBatch.counters') : undefined;
  return {
    migrationId: str(m['migrationId'], 'StateBatch.migration_id'),
    round: uint(m['round'], 'StateBatch.round'),
    slots,
    removed,
    coversSeq: { from, to },
    ...(counters ? { counters } : {}),
    ...(m['hasClock'] === true ? { clock: wireToBigint(m['clock'], 'StateBatch.clock') } : {}),
    ...(typeof m['source'] === 'string' && m['source'] !== '' ? { source: m['source'] } : {}),
    ...(m['hasTableEntries'] === true ? { tableEntries: tableEntriesFromWire(m['tableEntries']) } : {}),
    ...proofFromWire(m['proof']),
  };
}

/** StateBatch.proof: absent when empty, else one of the FinalProof values. */
function proofFromWire(v: unknown): { proof?: FinalProof } {
  if (v === undefined || v === '') return {};
  if (v === 'change-numbers' || v === 'change-log') return { proof: v };
  throw bad('StateBatch.proof', `'${String(v)}' is not a proof this side knows (change-numbers, change-log)`);
}

/** An ImportResult message. */
export const importResultToWire = (r: ImportResult): WireMessage => ({ installed: r.installed, alreadyPresent: r.alreadyPresent });

/** An ImportResult from its message. */
export function importResultFromWire(v: unknown): ImportResult {
  const m = msg(v, 'ImportResult');
  return { installed: uint(m['installed'], 'ImportResult.installed'), alreadyPresent: uint(m['alreadyPresent'], 'ImportResult.already_present') };
}

/** A DeleteResult from its message. */
export function deleteResultFromWire(v: unknown): { readonly deleted: number; readonly skipped: number } {
  const m = msg(v, 'DeleteResult');
  return { deleted: uint(m['deleted'], 'DeleteResult.deleted'), skipped: uint(m['skipped'], 'DeleteResult.skipped') };
}

/** A destination as a source plugin dials it (peer to peer). */
export interface TransferTarget {
  readonly name: string;
  readonly address: string;
  readonly serverName?: string;
}

const ALGORITHMS = ['crc32', 'crc16', 'csum16'] as const;

/** A TransferRequest message (the call's ref and ticket are added by the client). */
export function transferToWire(r: TransferRequest, targets: readonly TransferTarget[]): WireMessage {
  const p = r.plan.placement;
  return {
    destinations: targets.map((t) => ({ name: t.name, address: t.address, serverName: t.serverName ?? '' })),
    ...(p ? { placement: { algorithm: p.algorithm, fields: [...p.fields], devices: [...p.devices] } } : {}),
    final: r.mode.kind === 'final',
    ...(r.mode.kind === 'final' ? { sinceSeq: bigintToWire(r.mode.sinceSeq, 'sinceSeq'), freeze: r.mode.freeze === true, activate: r.mode.activate === true, ...(r.mode.budgetMs !== undefined ? { budgetMs: r.mode.budgetMs } : {}) } : {}),
  };
}

/** A transfer request and its targets from the message. */
export function transferFromWire(m: WireMessage): { readonly request: TransferRequest; readonly targets: TransferTarget[] } {
  const targets = list(m['destinations'], 'TransferRequest.destinations').map((t, i) => {
    const x = msg(t, `TransferRequest.destinations[${i}]`);
    const serverName = typeof x['serverName'] === 'string' && x['serverName'] !== '' ? x['serverName'] : undefined;
    return { name: str(x['name'], `TransferRequest.destinations[${i}].name`), address: str(x['address'], `TransferRequest.destinations[${i}].address`), ...(serverName ? { serverName } : {}) };
  });
  if (targets.length === 0) throw bad('TransferRequest', 'no destination to send to');
  let placement: FlowPlacement | undefined;
  if (m['placement'] !== null && m['placement'] !== undefined) {
    const p = msg(m['placement'], 'TransferRequest.placement');
    const names = (v: unknown, what: string): string[] => list(v, what).map((s, i) => str(s, `${what}[${i}]`));
    placement = { algorithm: oneOf(p['algorithm'], ALGORITHMS, 'TransferRequest.placement.algorithm'), fields: names(p['fields'], 'TransferRequest.placement.fields'), devices: names(p['devices'], 'TransferRequest.placement.devices') };
  }
  if (m['final'] !== true && (m['freeze'] === true || m['activate'] === true)) throw bad('TransferRequest', 'freeze and activate apply only to the final delta (final: true)');
  const mode: TransferMode = m['final'] === true
    ? { kind: 'final', sinceSeq: wireToBigint(m['sinceSeq'], 'TransferRequest.since_seq'), ...(m['freeze'] === true ? { freeze: true } : {}), ...(m['activate'] === true ? { activate: true } : {}), ...(typeof m['budgetMs'] === 'number' && m['budgetMs'] > 0 && m['freeze'] === true ? { budgetMs: m['budgetMs'] } : {}) }
    : { kind: 'precopy' };
  if (mode.kind === 'final' && mode.activate && targets.length !== 1) throw bad('TransferRequest', `activate needs exactly one destination, not ${targets.length}`);
  return { request: { plan: { destinations: targets.map((t) => t.name), placement }, mode }, targets };
}

/** A TransferProgress message. */
export const progressToWire = (p: TransferProgress): WireMessage => ({
  round: p.round, coversFrom: bigintToWire(p.coversSeq.from, 'coversSeq.from'), coversTo: bigintToWire(p.coversSeq.to, 'coversSeq.to'), slots: p.slots, final: p.final, merged: p.merged,
  ...(p.tableEntries !== undefined ? { tableEntries: p.tableEntries, hasTableEntries: true } : {}),
  ...(p.activated ? { activated: true } : {}),
});

/** A TransferProgress from its message. */
export function progressFromWire(v: unknown): TransferProgress {
  const m = msg(v, 'TransferProgress');
  const from = wireToBigint(m['coversFrom'], 'TransferProgress.covers_from');
  const to = wireToBigint(m['coversTo'], 'TransferProgress.covers_to');
  if (to < from) throw bad('TransferProgress', `covers_to ${to} is before covers_from ${from}`);
  return { round: uint(m['round'], 'TransferProgress.round'), coversSeq: { from, to }, slots: uint(m['slots'], 'TransferProgress.slots'), final: m['final'] === true, merged: uint(m['merged'], 'TransferProgress.merged'), ...(m['hasTableEntries'] === true ? { tableEntries: uint(m['tableEntries'], 'TransferProgress.table_entries') } : {}), ...(m['activated'] === true ? { activated: true } : {}) };
}

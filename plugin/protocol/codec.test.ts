import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeviceCapabilities, StateBatch } from '../device-api/device-api.js';
import { TicketVerifier, issueTicket } from '../security/migration-ticket.js';
import { batchFromWire, batchToWire, bigintToWire, capabilitiesFromWire, capabilitiesToWire, countersFromWire, countersToWire, progressFromWire, progressToWire, ticketFromWire, ticketToWire, transferFromWire, transferToWire, wireToBigint } from './codec.js';
import { decodeWire, encodeWire } from './wire.js';

/** Through the real protobuf encoding, as the peer sees it. */
const overWire = (type: string, v: Record<string, unknown>): Record<string, unknown> => decodeWire(type, encodeWire(type, v));

describe('protocol codec — bigint values', () => {
  it('protocol codec — values wider than 53 bits travel exactly, zero is one byte', () => {
    for (const v of [0n, 1n, 255n, 256n, (1n << 53n) + 1n, (1n << 64n) - 1n, (1n << 100n) + 12345n]) expect(wireToBigint(bigintToWire(v, 'v'), 'v')).toBe(v);
    expect([...bigintToWire(0n, 'v')]).toEqual([0]);
    expect([...bigintToWire(0x1234n, 'v')]).toEqual([0x12, 0x34]);
  });
  it('protocol codec — negative, missing and absurdly wide values are refused with the field named', () => {
    expect(() => bigintToWire(-1n, 'slot 0 field x')).toThrow(/slot 0 field x.*negative/);
    expect(() => wireToBigint(new Uint8Array(0), 'covers_from')).toThrow(/covers_from.*missing/);
    expect(() => wireToBigint(new Uint8Array(300), 'clock')).toThrow(/clock: 300 bytes/);
  });
});

describe('protocol codec — messages', () => {
  const batch: StateBatch = {
    migrationId: 'm1',
    round: 3,
    slots: [{ fields: { src_addr: 0x0a000005n, seq: (1n << 60n) + 7n, valid: 1n } }, { fields: { src_addr: 1n, seq: 0n, valid: 1n } }],
    removed: [{ src_addr: 9n }],
    coversSeq: { from: 10n, to: (1n << 63n) + 1n },
    counters: { vm_bytes: { packets: 5n, bytes: (1n << 62n) + 3n } },
    clock: (1n << 47n) + 11n,
    source: 'edge-a',
    proof: 'change-numbers',
    tableEntries: [
      { table: 'dyn_acl', match: { vm_id: 7n, vm_port: 5353n }, action: 'pinhole_allow', remainingNs: 29_000_000_000n, counter: { packets: 3n, bytes: (1n << 40n) + 1n } },
      { table: 'dyn_acl', match: { vm_id: 7n, vm_port: 5354n }, action: 'pinhole_allow', remainingNs: 0n },
    ],
  };
  it('protocol codec — a state batch survives the protobuf encoding field for field', () => {
    expect(batchFromWire(overWire('StateBatch', batchToWire(batch)))).toEqual(batch);
    const noExtras: StateBatch = { migrationId: 'm1', round: 0, slots: [], removed: [], coversSeq: { from: 0n, to: 0n } };
    expect(batchFromWire(overWire('StateBatch', batchToWire(noExtras)))).toEqual(noExtras);
    // An empty list of table entries is a complete list ("the VM has none"), not an absent one.
    const noEntries: StateBatch = { ...noExtras, tableEntries: [] };
    expect(batchFromWire(overWire('StateBatch', batchToWire(noEntries)))).toEqual(noEntries);
    // How the final batch was proven travels too; a proof this side does not know is refused.
    expect(batchFromWire(overWire('StateBatch', batchToWire({ ...noExtras, proof: 'change-log' }))).proof).toBe('change-log');
    expect(() => batchFromWire({ ...batchToWire(noExtras), proof: 'trust-me' })).toThrow(/StateBatch.proof.*'trust-me' is not a proof this side knows/);
  });
  it('protocol codec — transfer progress carries how many table entries its batch listed (none listed, an empty list and a list differ)', () => {
    const base = { round: 0, coversSeq: { from: 1n, to: 5n }, slots: 20, final: false, merged: 0 };
    for (const p of [base, { ...base, tableEntries: 0 }, { ...base, tableEntries: 3, final: true }, { ...base, final: true, activated: true }]) expect(progressFromWire(overWire('TransferProgress', progressToWire(p)))).toEqual(p);
  });
  it('protocol codec — a final Transfer that freezes (with how long it may stay frozen) and activates travels as asked; activate with two destinations, or either without final, is refused', () => {
    const targets = [{ name: 'edge-b', address: '127.0.0.1:1' }];
    const plan = { destinations: ['edge-b'], placement: undefined };
    for (const mode of [{ kind: 'final', sinceSeq: (1n << 60n) + 1n, freeze: true, activate: true } as const, { kind: 'final', sinceSeq: 3n, freeze: true, budgetMs: 1_050 } as const, { kind: 'final', sinceSeq: 7n } as const, { kind: 'precopy' } as const]) {
      expect(transferFromWire(overWire('TransferRequest', transferToWire({ plan, mode }, targets))).request.mode).toEqual(mode);
    }
    const two = [...targets, { name: 'edge-c', address: '127.0.0.1:2' }];
    const activating = transferToWire({ plan: { destinations: ['edge-b', 'edge-c'], placement: undefined }, mode: { kind: 'final', sinceSeq: 1n, activate: true } }, two);
    expect(() => transferFromWire(overWire('TransferRequest', activating))).toThrow(/malformed TransferRequest: activate needs exactly one destination, not 2/);
    expect(() => transferFromWire(overWire('TransferRequest', { ...transferToWire({ plan, mode: { kind: 'precopy' } }, targets), freeze: true }))).toThrow(/freeze and activate apply only to the final delta/);
  });
  it('protocol codec — counter values carried to an activation travel exactly in MigrationCall; a name given twice is refused', () => {
    const carried = { vm_tx: { packets: (1n << 63n) + 5n, bytes: 0n }, vm_rx: { packets: 1n, bytes: (1n << 40n) + 3n } };
    const decoded = overWire('MigrationCall', { ref: { migrationId: 'm1', vm: '10.0.0.5' }, carriedCounters: countersToWire(carried) });
    expect(countersFromWire(decoded['carriedCounters'], 'MigrationCall.carried_counters')).toEqual(carried);
    expect(countersFromWire(overWire('MigrationCall', { ref: { migrationId: 'm1', vm: '10.0.0.5' } })['carriedCounters'] ?? [], 'MigrationCall.carried_counters')).toEqual({});
    const twice = countersToWire({ vm_tx: { packets: 1n, bytes: 1n } });
    expect(() => countersFromWire([...twice, ...twice], 'MigrationCall.carried_counters')).toThrow(/MigrationCall.carried_counters.*counter 'vm_tx' appears twice/);
  });
  it('protocol codec — a slot naming a field twice, an unnamed field, or a range running backwards is refused', () => {
    const w = batchToWire(batch);
    const slot = { fields: [{ name: 'a', value: new Uint8Array([1]) }, { name: 'a', value: new Uint8Array([2]) }] };
    expect(() => batchFromWire(overWire('StateBatch', { ...w, slots: [slot] }))).toThrow(/field 'a' appears twice/);
    expect(() => batchFromWire(overWire('StateBatch', { ...w, slots: [{ fields: [{ name: '', value: new Uint8Array([1]) }] }] }))).toThrow(/field name: expected a non-empty string/);
    expect(() => batchFromWire(overWire('StateBatch', { ...w, coversFrom: new Uint8Array([9]), coversTo: new Uint8Array([1]) }))).toThrow(/covers_to 1 is before covers_from 9/);
  });
  it('protocol codec — capabilities and the protocol version travel; an unknown backend is refused', () => {
    const caps: DeviceCapabilities = {
      device: 'edge-1', apiVersion: 1, stateClasses: ['tcp-state', 'counters'], schema: { 'group:flow': 'abc', 'counter:vm_bytes': 'def' },
      slots: { total: 4096, free: 4000 }, registerAccess: 'inband', deltas: ['pull'], maxConcurrentMigrations: 2, keyFields: [{ name: 'src_addr', bits: 32 }],
      registers: [{ name: 'ct_key', bits: 104 }, { name: 'ct_state', bits: 64 }],
    };
    expect(capabilitiesFromWire(overWire('Capabilities', capabilitiesToWire(caps, 1)))).toEqual({ capabilities: caps, protocolVersion: 1 });
    expect(() => capabilitiesFromWire(overWire('Capabilities', { ...capabilitiesToWire(caps, 1), registerAccess: 'magic' }))).toThrow(/register_access.*'magic'/);
  });
  it('protocol codec — quiet delta reports are offered in Capabilities; a peer that predates them (no field) offers none', () => {
    const caps: DeviceCapabilities = {
      device: 'edge-1', apiVersion: 1, stateClasses: ['tcp-state'], schema: {}, slots: { total: 16, free: 16 }, registerAccess: 'inband', deltas: ['pull'],
      quietReports: true, maxConcurrentMigrations: 1, keyFields: [],
    };
    expect(capabilitiesFromWire(overWire('Capabilities', capabilitiesToWire(caps, 1))).capabilities.quietReports).toBe(true);
    const { quietReports: _none, ...older } = capabilitiesToWire(caps, 1);
    expect(capabilitiesFromWire(overWire('Capabilities', older)).capabilities.quietReports).toBeUndefined();
    // The same for a transfer that freezes and activates by itself.
    const freezing = capabilitiesFromWire(overWire('Capabilities', capabilitiesToWire({ ...caps, transferFreezes: true }, 1))).capabilities;
    expect(freezing.transferFreezes).toBe(true);
    const { transferFreezes: _no, ...predating } = capabilitiesToWire({ ...caps, transferFreezes: true }, 1);
    expect(capabilitiesFromWire(overWire('Capabilities', predating)).capabilities.transferFreezes).toBeUndefined();
    // The call asks for them in a field an older peer skips.
    expect(overWire('MigrationCall', { reportQuiet: true })['reportQuiet']).toBe(true);
    // And for an abort that cleans a destination that may be active.
    expect(capabilitiesFromWire(overWire('Capabilities', capabilitiesToWire({ ...caps, abortCleansActive: true }, 1))).capabilities.abortCleansActive).toBe(true);
    expect(capabilitiesFromWire(overWire('Capabilities', capabilitiesToWire(caps, 1))).capabilities.abortCleansActive).toBeUndefined();
    expect(overWire('MigrationCall', { mayBeActive: true })['mayBeActive']).toBe(true);
  });
  it('protocol codec — a footprint request may ask the daemon to wait for its scan (await_scan, a field an older daemon skips)', () => {
    expect(overWire('FootprintRequest', { vm: '10.0.0.5', awaitScan: true })).toMatchObject({ vm: '10.0.0.5', awaitScan: true });
    expect(overWire('FootprintRequest', { vm: '10.0.0.5' })['awaitScan']).not.toBe(true);
  });
  it('protocol codec — a ticket survives the encoding and still verifies; a call without one is UNAUTHORIZED', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const t = issueTicket({ migrationId: 'm1', vm: 'vm-7', sources: ['src'], destinations: ['dst'], ttlMs: 60_000 }, 'dc-a', privateKey);
    const back = ticketFromWire(overWire('Ticket', ticketToWire(t)));
    expect(back).toEqual(t);
    expect(new TicketVerifier({ trusted: { 'dc-a': publicKey } }).verify(back, { migrationId: 'm1', vm: 'vm-7', device: 'dst' }).nonce).toBe(t.claims.nonce);
    expect(() => ticketFromWire(null)).toThrow(expect.objectContaining({ reason: 'UNAUTHORIZED', message: expect.stringMatching(/carries no ticket/) as unknown }));
  });
});

// What p4runtime-shell sends — every value padded to its full width — must work on every profile
// (P4Runtime 1.4 §8.3: the receiver imposes no maximum length, only that the value fits). Strict
// canonical checking is an opt-in (`canonicalBytestrings`).
import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { p4 } from 'p4runtime-ts/proto';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import type { EgressPacket } from '../server/dataplane.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

const ids = l2.ids;
/** `v` big-endian in exactly `bytes` bytes, as p4runtime-shell pads it. */
const pad = (v: bigint, bytes: number): Uint8Array => Uint8Array.from({ length: bytes }, (_, i) => Number((v >> BigInt(8 * (bytes - 1 - i))) & 0xffn));
const DST = 0x0a0000000042n;
const paddedEntry = (): p4.v1.TableEntry.$Properties => ({
  tableId: ids.tables.mac_fwd,
  match: [{ fieldId: 1, exact: { value: pad(DST, 6) } }],
  action: { action: { actionId: ids.actions.forward, params: [{ paramId: 1, value: pad(5n, 2) }] } },
});
const paddedPacketOut = (payload: Uint8Array, port: number): p4.v1.StreamMessageRequest.$Properties => ({
  packet: { payload, metadata: [{ metadataId: 1, value: pad(BigInt(port), 2) }, { metadataId: 2, value: pad(0n, 1) }] },
});

describe.each(SIM_PROFILE_NAMES)('conformance %s — padded bytestrings (p4runtime-shell style)', (profile) => {
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it(`${profile} — padded match and parameter values are written, read back canonical, and read by a padded key`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([l2.insert(paddedEntry())]);
    expect(o.code, o.details).toBe(status.OK);
    const all = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd } }] });
    const e = all.entities[0]?.tableEntry;
    expect([...(e?.match?.[0]?.exact?.value ?? [])]).toEqual([0x0a, 0, 0, 0, 0, 0x42]);
    expect([...(e?.action?.action?.params?.[0]?.value ?? [])]).toEqual([5]);
    const byKey = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: pad(DST, 8) } }] } }] });
    expect(byKey.outcome.code).toBe(status.OK);
    expect(byKey.entities).toHaveLength(1);
    expect(f.sw.dataplane.inject(2, l2.frame(DST, 0x020000000001n, 0x0800))).toMatchObject({ kind: 'forward', port: 5 });
  });

  it(`${profile} — a padded value that does not fit is still refused, and nothing is written`, async () => {
    f = await startFixture({ profile });
    const tooWide = { ...paddedEntry(), action: { action: { actionId: ids.actions.forward, params: [{ paramId: 1, value: pad(0x200n, 4) }] } } };
    const o = await f.write([l2.insert(tooWide)]);
    expect(o.errors.map((e) => e.code)).toEqual([status.INVALID_ARGUMENT]);
    expect(o.errors[0]?.message).toMatch(/does not fit within 9 bits/);
    expect(f.sw.state.tableEntries('mac_fwd')).toHaveLength(0);
  });

  it(`${profile} — a PacketOut with every metadata field padded leaves on its port`, async () => {
    f = await startFixture({ profile });
    const egress: EgressPacket[] = [];
    f.sw.dataplane.onEgress((p) => egress.push(p));
    f.stream.send(paddedPacketOut(l2.frame(0x99n, 0x020000000001n, 0x0800, 'padded'), 7));
    await f.stream.next((m) => m.update === 'packet' || m.update === 'error', 300).catch(() => undefined);
    expect(egress.map((p) => p.port)).toEqual([7]);
    expect(f.stream.received.filter((m) => m.update === 'error')).toHaveLength(0);
  });
});

describe('conformance — canonicalBytestrings (opt-in strict check)', () => {
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('strict — a padded Write value is INVALID_ARGUMENT naming the shortest form and the option', async () => {
    f = await startFixture({ profile: 'full', canonicalBytestrings: true });
    const o = await f.write([l2.insert(paddedEntry())]);
    expect(o.errors.map((e) => e.code)).toEqual([status.INVALID_ARGUMENT]);
    expect(o.errors[0]?.message).toMatch(/0x0a0000000042 is not canonical|0x0005 is not canonical/);
    expect(o.errors[0]?.message).toMatch(/canonicalBytestrings/);
    expect(f.sw.state.tableEntries('mac_fwd')).toHaveLength(0);
  });

  it('strict — a padded PacketOut is a StreamError and nothing leaves', async () => {
    f = await startFixture({ profile: 'full', canonicalBytestrings: true });
    const egress: EgressPacket[] = [];
    f.sw.dataplane.onEgress((p) => egress.push(p));
    f.stream.send(paddedPacketOut(l2.frame(0x99n, 0x020000000001n, 0x0800, 'padded'), 7));
    const err = (await f.stream.next((m) => m.update === 'error')).error;
    expect(err?.canonicalCode).toBe(status.INVALID_ARGUMENT);
    expect(err?.message).toMatch(/PacketOut metadata 'egress_port': bytestring 0x0007 is not canonical; send 0x07/);
    expect(egress).toHaveLength(0);
  });

  it('strict — the option is validated at the edge', async () => {
    await expect(startFixture({ profile: 'full', canonicalBytestrings: 'yes' as unknown as boolean })).rejects.toThrow(/sim option 'canonicalBytestrings': got "yes"; expected true or false/);
  });
});

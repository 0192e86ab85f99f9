import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { toUint128 } from 'p4runtime-ts/proto';
import { PROFILE_EXPECTATIONS } from './profile-expectations.js';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import { P4RUNTIME_PATHS } from '../p4rt/service-definition.js';
import { RawP4RuntimeClient } from '../testing/raw-client.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

const ids = l2.ids;
/** Field 1, length-delimited, length 5, but only one byte follows. */
const TRUNCATED = Uint8Array.of(0x0a, 0x05, 0x01);

/** A second, independent client still gets served: capabilities, a read, and a write by the primary. */
async function stillServes(f: SimFixture, key: bigint): Promise<void> {
  const other = new RawP4RuntimeClient(f.sw.address);
  try {
    expect((await other.capabilities()).outcome.code).toBe(status.OK);
    expect((await other.read({ deviceId: 1, entities: [{ tableEntry: { tableId: 0 } }] })).outcome.code).toBe(status.OK);
    expect((await f.write([l2.insert(l2.macFwd(key, 'drop'))])).code).toBe(status.OK);
  } finally {
    other.close();
  }
}

describe.each(SIM_PROFILE_NAMES)('conformance %s — bad input gets the right code and a message naming it; the switch keeps serving', (profile) => {
  const x = PROFILE_EXPECTATIONS[profile];
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it(`${profile} — malformed protobuf on every unary RPC is INVALID_ARGUMENT naming the message`, async () => {
    f = await startFixture({ profile });
    const names: Record<string, string> = {
      Write: 'WriteRequest',
      Read: 'ReadRequest',
      SetForwardingPipelineConfig: 'SetForwardingPipelineConfigRequest',
      GetForwardingPipelineConfig: 'GetForwardingPipelineConfigRequest',
      Capabilities: 'CapabilitiesRequest',
    };
    for (const [method, message] of Object.entries(names)) {
      const path = P4RUNTIME_PATHS[method as keyof typeof P4RUNTIME_PATHS];
      const o = method === 'Read'
        ? await new Promise<{ code: number; details: string }>((resolve) => {
            const call = f?.client.client.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(TRUNCATED));
            call?.on('error', (e: { code: number; details: string }) => resolve(e));
            call?.on('data', () => undefined);
          })
        : await f.client.rawUnary(path, TRUNCATED);
      expect(o.code, method).toBe(status.INVALID_ARGUMENT);
      expect(o.details).toMatch(new RegExp(`^malformed ${message} \\(3 bytes\\): .+; the request could not be decoded as protobuf$`));
    }
    await stillServes(f, 1n);
  });

  it(`${profile} — a malformed StreamChannel message ends that stream with INVALID_ARGUMENT`, async () => {
    f = await startFixture({ profile });
    const call = f.client.client.makeBidiStreamRequest(P4RUNTIME_PATHS.StreamChannel, (b: Buffer) => b, (b: Buffer) => b);
    const ended = new Promise<{ code: number; details: string }>((resolve) => call.on('error', resolve));
    call.on('data', () => undefined);
    call.write(Buffer.from(TRUNCATED));
    const e = await ended;
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/^malformed StreamMessageRequest \(3 bytes\)/);
    await stillServes(f, 2n);
  });

  it(`${profile} — wrong device ids`, async () => {
    f = await startFixture({ profile });
    const read = await f.client.read({ deviceId: 7, entities: [{ tableEntry: { tableId: 0 } }] });
    const get = await f.client.getPipeline({ deviceId: 7 });
    if (profile === 'bmv2') {
      expect([read.outcome.code, get.outcome.code]).toEqual([status.FAILED_PRECONDITION, status.FAILED_PRECONDITION]);
      expect(read.outcome.details).toMatch(x.words.noPipeline);
    } else {
      expect([read.outcome.code, get.outcome.code]).toEqual([status.NOT_FOUND, status.NOT_FOUND]);
      expect(read.outcome.details).toMatch(/device id 7 is not known to this switch \(it is device 1\); use device_id 1/);
    }
    const w = await f.client.write({ deviceId: 7, electionId: toUint128(10n), updates: [l2.insert(l2.macFwd(1n, 'drop'))] });
    expect(w.code).toBe(x.unknownDeviceWrite.code);
    await stillServes(f, 3n);
  });

  it(`${profile} — unknown ids in writes name the object (or say "Invalid P4 id" on bmv2)`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([
      l2.insert({ ...l2.macFwd(1n, 'drop'), tableId: 0x02009999 }),
      l2.insert({ ...l2.macFwd(1n, 'drop'), match: [{ fieldId: 4, exact: { value: l2.bytes(1) } }] }),
      l2.insert({ ...l2.macFwd(1n, 'drop'), action: { action: { actionId: 0x01009999 } } }),
      { type: 2, entity: { counterEntry: { counterId: 0x12009999, data: { packetCount: 1 } } } },
      { type: 1, entity: { digestEntry: { digestId: 0x17009999, config: {} } } },
    ]);
    expect(o.code).toBe(status.UNKNOWN);
    expect(o.errors.map((e) => e.code)).toEqual(Array(5).fill(status.INVALID_ARGUMENT));
    if (profile === 'bmv2') {
      expect(o.errors.every((e) => e.message === 'Invalid P4 id')).toBe(true);
    } else {
      expect(o.errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/table id 0x02009999 is not a table in the P4Info \(tables: 'EchoIngress.mac_fwd' 0x02000001/),
        expect.stringMatching(/table 'EchoIngress.mac_fwd' has no match field id 4 \(fields: 1 'hdr.ethernet.dst_addr'\)/),
        expect.stringMatching(/action id 0x01009999 is not an action in the P4Info/),
        expect.stringMatching(/counter id 0x12009999 is not an indirect counter in the P4Info/),
        expect.stringMatching(/digest id 0x17009999 is not a digest in the P4Info/),
      ]);
    }
    const r = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: 0x02009999 } }] });
    expect(r.outcome.code).toBe(profile === 'bmv2' ? status.INVALID_ARGUMENT : status.UNKNOWN);
    if (profile !== 'bmv2') expect(r.outcome.errors.map((e) => e.code)).toEqual([status.INVALID_ARGUMENT]);
    await stillServes(f, 4n);
  });

  it(`${profile} — non-canonical and oversize bytestrings`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([
      l2.insert({ ...l2.macFwd(1n, 'drop'), match: [{ fieldId: 1, exact: { value: Uint8Array.of(0, 1) } }] }),
      l2.insert({ ...l2.macFwd(2n, 'drop'), match: [{ fieldId: 1, exact: { value: new Uint8Array(7).fill(0xff) } }] }),
      { type: 2, entity: { counterEntry: { counterId: ids.counters.port_counter, index: { index: 99999 }, data: {} } } },
    ]);
    expect(o.errors[0]?.code).toBe(x.paddedBytestrings === 'accepted' ? status.OK : status.INVALID_ARGUMENT);
    expect(o.errors[1]?.code).toBe(status.INVALID_ARGUMENT);
    expect(o.errors[1]?.message).toMatch(profile === 'bmv2' ? /^Bytestring provided does not fit within 48 bits$/ : /does not fit within 48 bits: table 'EchoIngress.mac_fwd' match field 'hdr.ethernet.dst_addr' is 0xffffffffffffff/);
    expect(o.errors[2]?.code).toBe(status.OUT_OF_RANGE);
    expect(o.errors[2]?.message).toMatch(/index 99999 is out of range \(size 512, valid 0..511\)/);
    await stillServes(f, 5n);
  });

  it(`${profile} — writes from a backup controller are PERMISSION_DENIED and change nothing`, async () => {
    f = await startFixture({ profile });
    const backup = f.client.stream();
    backup.arbitrate({ deviceId: 1, electionId: 4n });
    await backup.nextArbitration();
    const o = await f.client.write({ deviceId: 1, electionId: toUint128(4n), updates: [l2.insert(l2.macFwd(9n, 'drop'))] });
    expect(o.code).toBe(status.PERMISSION_DENIED);
    expect(o.details).toMatch(x.words.notPrimary);
    if (profile !== 'bmv2') expect(o.details).toMatch(/election id 4 is not the primary's \(10\)/);
    expect(f.sw.state.tableEntries('mac_fwd')).toHaveLength(0);
    await stillServes(f, 6n);
    backup.cancel();
  });

  it(`${profile} — an empty Update or Entity is INVALID_ARGUMENT`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([{ type: 1 }, { entity: { tableEntry: l2.macFwd(1n, 'drop') } }]);
    expect(o.errors.map((e) => e.code)).toEqual([status.INVALID_ARGUMENT, status.INVALID_ARGUMENT]);
    expect(o.errors[0]?.message).toMatch(/no entity set/);
    expect(o.errors[1]?.message).toMatch(/UNSPECIFIED/);
    await stillServes(f, 7n);
  });
});

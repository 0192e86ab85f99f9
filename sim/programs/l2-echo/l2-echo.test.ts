import { describe, expect, it } from 'vitest';
import type { p4 } from 'p4runtime-ts/proto';
import { L2_ECHO_PROGRAM } from './l2-echo.js';
import { L2_ECHO_IDS, L2_ECHO_LEARN_ETHER_TYPE } from './l2-echo-p4info.js';
import { VirtualScheduler } from '../../clock.js';
import { silentLogger } from 'p4runtime-ts';
import { applyUpdate } from '../../pipeline/entity-writer.js';
import { simProfile } from '../../profiles.js';
import { Dataplane } from '../../server/dataplane.js';
import type { EgressPacket } from '../../server/dataplane.js';
import { l2EchoContexts } from '../../testing/contexts.js';
import { l2 } from '../../testing/fixture.js';

function setup() {
  const c = l2EchoContexts('full');
  const digests: { id: number; data: p4.v1.P4Data.$Properties }[] = [];
  const packetIns: p4.v1.PacketIn.$Properties[] = [];
  const egress: EgressPacket[] = [];
  const dp = new Dataplane({
    index: c.state.index,
    state: c.state,
    program: L2_ECHO_PROGRAM.instantiate({ cpuPort: 255 }),
    programName: 'l2_echo',
    cpuPort: 255,
    profile: simProfile('full'),
    scheduler: new VirtualScheduler(),
    logger: silentLogger,
    digest: (id, data) => digests.push({ id, data }),
    packetIn: (p) => packetIns.push(p),
    egress: (p) => egress.push(p),
  });
  return { c, dp, digests, packetIns, egress };
}

describe('l2_echo — behaviour', () => {
  it('l2_echo — unknown destinations are echoed to the CPU with the ingress port', () => {
    const t = setup();
    expect(t.dp.inject(3, l2.frame(0x55n, 0x66n, 0x0800)).kind).toBe('to-cpu');
    expect(t.packetIns[0]?.metadata).toEqual([{ metadataId: 1, value: Uint8Array.of(3) }, { metadataId: 2, value: Uint8Array.of(0) }]);
  });

  it('l2_echo — exact entries win over LPM; LPM catches the rest; drop drops', () => {
    const t = setup();
    applyUpdate(t.c.write(), l2.insert(l2.macFwd(0x0a0000000001n, { forward: 5 })));
    applyUpdate(t.c.write(), l2.insert(l2.macPrefix(0x0a0000000000n, 16, 6)));
    applyUpdate(t.c.write(), l2.insert(l2.macFwd(0x0b0000000000n, 'drop')));
    expect(t.dp.inject(1, l2.frame(0x0a0000000001n, 1n, 0x0800))).toMatchObject({ kind: 'forward', port: 5 });
    expect(t.dp.inject(1, l2.frame(0x0a0000000009n, 1n, 0x0800))).toMatchObject({ kind: 'forward', port: 6 });
    expect(t.dp.inject(1, l2.frame(0x0b0000000000n, 1n, 0x0800)).kind).toBe('drop');
    expect(t.egress.map((e) => e.port)).toEqual([5, 6]);
  });

  it('l2_echo — the learn ether type emits a learn_t digest of (src, ingress port)', () => {
    const t = setup();
    t.dp.inject(7, l2.frame(0x1n, 0xaabbccddeeffn, L2_ECHO_LEARN_ETHER_TYPE));
    expect(t.digests).toEqual([{ id: L2_ECHO_IDS.digests.learn_t, data: { struct: { members: [{ bitstring: Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff) }, { bitstring: Uint8Array.of(7) }] } } }]);
  });

  it('l2_echo — counters, register and direct counters count every packet', () => {
    const t = setup();
    applyUpdate(t.c.write(), l2.insert(l2.macFwd(0x1n, { forward: 2 })));
    t.dp.inject(4, l2.frame(0x1n, 0x2n, 0x0800, 'abcdef'));
    t.dp.inject(4, l2.frame(0x1n, 0x2n, 0x0800, 'abcdef'));
    expect(t.c.state.counters.get(L2_ECHO_IDS.counters.port_counter)?.get(4)).toEqual({ bytes: 40n, packets: 2n });
    expect(t.c.state.registers.get(L2_ECHO_IDS.registers.pkt_count)?.get(4)).toBe(2n);
    expect([...t.c.state.table(L2_ECHO_IDS.tables.mac_fwd).entries()][0]?.counter).toEqual({ bytes: 40n, packets: 2n });
    expect(t.c.state.table(L2_ECHO_IDS.tables.acl).defaultEntry.counter).toEqual({ bytes: 40n, packets: 2n });
  });

  it('l2_echo — runt frames are dropped; packet-out metadata is checked on strict profiles', () => {
    const t = setup();
    expect(t.dp.inject(1, Uint8Array.of(1, 2, 3))).toMatchObject({ kind: 'drop' });
    expect(t.dp.packetOut({ payload: l2.frame(1n, 2n, 0x0800), metadata: [{ metadataId: 1, value: l2.bytes(3) }] })?.message).toMatch(/lacks metadata '_pad'/);
    expect(t.dp.packetOut({ payload: l2.frame(1n, 2n, 0x0800), metadata: [{ metadataId: 1, value: Uint8Array.of(2, 0) }, { metadataId: 2, value: l2.bytes(0) }] })?.message).toMatch(/does not fit within 9 bits/);
    expect(t.dp.packetOut({ payload: l2.frame(1n, 2n, 0x0800), metadata: [{ metadataId: 3, value: l2.bytes(1) }] })?.message).toMatch(/metadata id 3 is not in the P4Info's packet_out header/);
    expect(t.dp.packetOut({ payload: l2.frame(1n, 2n, 0x0800), metadata: [{ metadataId: 1, value: l2.bytes(9) }, { metadataId: 2, value: l2.bytes(0) }] })).toBeNull();
    expect(t.egress.map((e) => e.port)).toEqual([9]);
  });
});

import { describe, expect, it } from 'vitest';
import { p4, toLong } from 'p4runtime-ts/proto';
import { encodeReadResponse } from './read-response-encoding.js';
import { canonicalBytes } from './bytestring.js';

type Entity = p4.v1.Entity.$Properties;

const cell = (registerId: number, index: number, v: bigint): Entity => ({ registerEntry: { registerId, index: { index }, data: { bitstring: canonicalBytes(v) } } });

describe('read response encoding — register cells by hand, the rest by protobufjs', () => {
  it('read response encoding — byte for byte what protobufjs writes: cells (index 0, multi-byte varints, wide and bool values) mixed with other entities', () => {
    const entities: Entity[] = [
      cell(0x0500_0001, 0, 0n),
      cell(0x0500_0002, 127, 255n),
      cell(0x0500_0003, 128, (1n << 64n) - 1n),
      cell(0xffff_ffff, 327_679, 1n << 200n),
      { registerEntry: { registerId: 0x0500_0004, index: { index: 3 }, data: { bool: true } } },
      { registerEntry: { registerId: 0x0500_0004, index: { index: 4 }, data: { bool: false } } },
      { registerEntry: { registerId: 0x0500_0005, index: { index: toLong(9n) }, data: { bitstring: Uint8Array.of(7) } } },
      { tableEntry: { tableId: 0x0200_0001, match: [{ fieldId: 1, exact: { value: Uint8Array.of(10, 0, 0, 5) } }], action: { action: { actionId: 7 } }, priority: 0 } },
      { counterEntry: { counterId: 0x1200_0001, index: { index: 5 }, data: { packetCount: toLong(3n), byteCount: toLong(300n) } } },
      // Not the shape readRegisters answers (no data): left to protobufjs.
      { registerEntry: { registerId: 0x0500_0006, index: { index: 1 } } },
    ];
    const ours = encodeReadResponse({ entities });
    const theirs = p4.v1.ReadResponse.encode({ entities }).finish();
    expect(Buffer.compare(ours, Buffer.from(theirs))).toBe(0);
    const back = p4.v1.ReadResponse.decode(ours);
    expect(back.entities).toHaveLength(entities.length);
    expect(Number(back.entities[3]?.registerEntry?.registerId)).toBe(0xffff_ffff);
    expect(Number(back.entities[2]?.registerEntry?.index?.index)).toBe(128);
  });

  it('read response encoding — an empty response (PI always sends one) is empty bytes', () => {
    expect(encodeReadResponse({ entities: [] }).length).toBe(0);
    expect(encodeReadResponse({}).length).toBe(0);
  });
});

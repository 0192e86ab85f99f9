/**
 * ReadResponse serialization for the sim's Read RPC. Register cells — a delta round's or a pause's
 * hundreds of `RegisterEntry` answers per request — are written by hand (protobufjs spent more
 * per cell on its writer operations and int64 handling than the sim spent reading the cell);
 * every other entity goes through the generated protobufjs encoder. Wire format: the protobuf
 * encoding spec; field numbers from p4runtime.proto (Entity.register_entry = 11,
 * RegisterEntry.register_id/index/data = 1/2/3, Index.index = 1) and p4data.proto
 * (P4Data.bitstring = 1, P4Data.bool = 3).
 */
import { p4, toBigInt } from 'p4runtime-ts/proto';
import type { LongLike } from 'p4runtime-ts/proto';

type Entity = p4.v1.Entity.$Properties;

/** Bytes of `v` (a non-negative safe integer) as a varint. */
function varintSize(v: number): number {
  let n = 1;
  for (let x = v; x >= 128; x = Math.floor(x / 128)) n++;
  return n;
}

function putVarint(out: Uint8Array, at: number, v: number): number {
  let x = v;
  let i = at;
  while (x >= 128) {
    out[i++] = (x % 128) | 128;
    x = Math.floor(x / 128);
  }
  out[i++] = x;
  return i;
}

/** A register cell in the shape readRegisters answers, or undefined when the entity is anything else. */
interface Cell {
  readonly id: number;
  readonly index: number;
  readonly bits?: Uint8Array;
  readonly bool?: boolean;
}

function cellOf(e: Entity): Cell | undefined {
  const re = e.registerEntry;
  if (!re) return undefined;
  for (const k in e) if (k !== 'registerEntry' && (e as Record<string, unknown>)[k] != null) return undefined;
  const d = re.data;
  if (re.registerId == null || re.index?.index == null || !d) return undefined;
  const index = typeof re.index.index === 'number' ? re.index.index : Number(toBigInt(re.index.index as LongLike));
  if (!Number.isSafeInteger(index) || index < 0) return undefined;
  let set = 0;
  for (const k in d) if ((d as Record<string, unknown>)[k] != null) set++;
  if (set !== 1) return undefined;
  if (d.bitstring != null) return { id: re.registerId, index, bits: d.bitstring };
  if (d.bool != null) return { id: re.registerId, index, bool: d.bool };
  return undefined;
}

/** Sizes of one cell's nested messages: [Entity body, RegisterEntry body, Index body, P4Data body]. */
function cellSizes(c: Cell): [number, number, number, number] {
  // Index 0 is the proto3 default: protobufjs leaves the field out, and so do we.
  const idx = c.index === 0 ? 0 : 1 + varintSize(c.index);
  const data = c.bits ? 1 + varintSize(c.bits.length) + c.bits.length : 2;
  const reg = 1 + varintSize(c.id) + 1 + varintSize(idx) + idx + 1 + varintSize(data) + data;
  return [1 + varintSize(reg) + reg, reg, idx, data];
}

/** Encodes a ReadResponse (entities only, as the sim answers); equal to protobufjs's encoding for every entity. */
export function encodeReadResponse(r: p4.v1.ReadResponse.$Properties): Buffer {
  const entities = r.entities ?? [];
  const cells = entities.map(cellOf);
  const other = entities.map((e, i) => (cells[i] ? undefined : p4.v1.Entity.encode(e).finish()));
  // Each cell's sizes once: the total needs them, and so does the writing.
  const sizes = cells.map((c) => (c ? cellSizes(c) : undefined));
  let total = 0;
  const bodies = entities.map((_, i) => {
    const n = sizes[i]?.[0] ?? other[i]?.length ?? 0;
    total += 1 + varintSize(n) + n;
    return n;
  });
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < entities.length; i++) {
    out[at++] = 0x0a; // ReadResponse.entities = 1, length-delimited
    at = putVarint(out, at, bodies[i] as number);
    const c = cells[i];
    const size = sizes[i];
    if (!c || !size) {
      const b = other[i] as Uint8Array;
      out.set(b, at);
      at += b.length;
      continue;
    }
    const [, reg, idx, data] = size;
    out[at++] = 0x5a; // Entity.register_entry = 11
    at = putVarint(out, at, reg);
    out[at++] = 0x08; // RegisterEntry.register_id = 1
    at = putVarint(out, at, c.id);
    out[at++] = 0x12; // RegisterEntry.index = 2
    at = putVarint(out, at, idx);
    if (c.index !== 0) {
      out[at++] = 0x08; // Index.index = 1
      at = putVarint(out, at, c.index);
    }
    out[at++] = 0x1a; // RegisterEntry.data = 3
    at = putVarint(out, at, data);
    if (c.bits) {
      out[at++] = 0x0a; // P4Data.bitstring = 1
      at = putVarint(out, at, c.bits.length);
      out.set(c.bits, at);
      at += c.bits.length;
    } else {
      out[at++] = 0x18; // P4Data.bool = 3
      out[at++] = c.bool ? 1 : 0;
    }
  }
  return out;
}

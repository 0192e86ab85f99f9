/**
 * Pure slot placement for a hash-indexed slot group: which slots a flow may occupy, and which
 * one the data plane picks. The same math the controller needs to place a flow on a destination
 * switch bit-exactly (DESIGN.md §4 "slot groups"); it depends only on sim/hash, so it can move to
 * a shared package unchanged.
 *
 * Rule (conntrack.p4): each hash choice i covers the slots [base_i, base_i + max_i), cut into
 * buckets of `ways` adjacent slots; the flow's bucket is hash_i(key) mod (max_i / ways), the key
 * being the big-endian concatenation of the key fields. The candidates are, choice by choice, the
 * bucket's slots in order: base_i + ways * bucket_i + w. A packet belongs to the candidate whose
 * stored key equals its own; a new flow takes the first free candidate; when none is free the
 * flow is not tracked (a collision).
 */
import { applyBaseAndMax, crc16, crc32, hashBytes, parseHashAlgorithm } from 'p4runtime-ts';
import type { HashAlgorithm } from 'p4runtime-ts';
import { CT_REGION0_BUCKETS, CT_REGION0_SIZE, CT_REGION1_BUCKETS, CT_REGION1_SIZE, CT_SLOTS, CT_WAYS } from './layout.js';

/** A flow in canonical direction order: the VM's side first. */
export interface FlowKey {
  readonly vmAddr: number;
  readonly remoteAddr: number;
  readonly vmPort: number;
  readonly remotePort: number;
  readonly protocol: number;
}

/** One hash input field: name (as in @migrate_layout) and width in bits (whole bytes). */
export interface KeyField {
  readonly name: string;
  readonly bits: number;
}

/** One hash choice: the region [base, base + max), bucket = algo(key) mod (max / ways). */
export interface HashChoice {
  readonly algo: HashAlgorithm;
  readonly base: number;
  readonly max: number;
}

/** Everything needed to place a flow in a slot group. */
export interface PlacementSpec {
  readonly keyFields: readonly KeyField[];
  readonly choices: readonly HashChoice[];
  /** Slots per bucket (1 = one candidate per choice). */
  readonly ways: number;
  /** Size of the index space (every register of the group). */
  readonly slots: number;
}

/** The stateful_edge conntrack group, as its @migrate_key / @migrate_hash annotations say. */
export const STATEFUL_EDGE_PLACEMENT: PlacementSpec = Object.freeze({
  keyFields: Object.freeze([
    { name: 'vm_addr', bits: 32 },
    { name: 'remote_addr', bits: 32 },
    { name: 'vm_port', bits: 16 },
    { name: 'remote_port', bits: 16 },
    { name: 'protocol', bits: 8 },
  ]),
  choices: Object.freeze<HashChoice[]>([
    { algo: 'crc32', base: 0, max: CT_REGION0_SIZE },
    { algo: 'crc16', base: CT_REGION0_SIZE, max: CT_REGION1_SIZE },
  ]),
  ways: CT_WAYS,
  slots: CT_SLOTS,
});

/** Checks a placement spec: whole-byte fields, choices inside the index space. */
export function validatePlacementSpec(spec: PlacementSpec): PlacementSpec {
  if (spec.keyFields.length === 0) throw new Error('placement: the key has no fields; expected @migrate_key to list at least one');
  for (const f of spec.keyFields) {
    if (!Number.isInteger(f.bits) || f.bits <= 0 || f.bits % 8 !== 0) {
      throw new Error(`placement: key field '${f.name}' is ${f.bits} bits; expected a positive multiple of 8 (byte-aligned hash input)`);
    }
  }
  if (!Number.isInteger(spec.ways) || spec.ways < 1) throw new Error(`placement: ways ${spec.ways} must be a positive integer (@migrate_ways)`);
  if (spec.choices.length === 0) throw new Error('placement: no hash choice; expected @migrate_hash with at least one (algo, base, max)');
  for (const [i, c] of spec.choices.entries()) {
    parseHashAlgorithm(c.algo);
    if (c.max % spec.ways !== 0) {
      throw new Error(`placement: choice ${i} covers ${c.max} slots, not a whole number of ${spec.ways}-slot buckets; expected max to be a multiple of ways`);
    }
    if (!Number.isSafeInteger(c.base) || c.base < 0 || !Number.isSafeInteger(c.max) || c.max <= 0 || c.base + c.max > spec.slots) {
      throw new Error(
        `placement: choice ${i} (${c.algo}, base ${c.base}, max ${c.max}) does not fit the ${spec.slots}-slot index space; ` +
          'expected 0 <= base and base + max <= slots',
      );
    }
  }
  return spec;
}

/** Big-endian concatenation of the key fields in spec order (the hash input). */
export function keyBytes(spec: PlacementSpec, fields: Readonly<Record<string, number | bigint>>): Uint8Array {
  const total = spec.keyFields.reduce((n, f) => n + f.bits / 8, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of spec.keyFields) {
    const raw = fields[f.name];
    if (raw === undefined) throw new Error(`placement: key field '${f.name}' is missing from the flow`);
    let v = BigInt(raw);
    if (v < 0n || v >= 1n << BigInt(f.bits)) throw new Error(`placement: key field '${f.name}' value ${v} does not fit ${f.bits} bits`);
    for (let b = f.bits / 8 - 1; b >= 0; b--) {
      out[o + b] = Number(v & 0xffn);
      v >>= 8n;
    }
    o += f.bits / 8;
  }
  return out;
}

/** The candidate slots of a flow, in probe order, for any placement spec. */
export function candidateSlotsFor(spec: PlacementSpec, fields: Readonly<Record<string, number | bigint>>): number[] {
  const bytes = keyBytes(spec, fields);
  const out: number[] = [];
  for (const c of spec.choices) {
    const bucket = applyBaseAndMax(hashBytes(c.algo, bytes), 0, c.max / spec.ways);
    for (let w = 0; w < spec.ways; w++) out.push(c.base + bucket * spec.ways + w);
  }
  return out;
}

const SCRATCH = new Uint8Array(13);

/** The 13-byte hash input of a stateful_edge flow key. */
export function flowKeyBytes(key: FlowKey, out: Uint8Array = new Uint8Array(13)): Uint8Array {
  const put32 = (o: number, v: number): void => {
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  };
  put32(0, key.vmAddr >>> 0);
  put32(4, key.remoteAddr >>> 0);
  out[8] = (key.vmPort >>> 8) & 0xff;
  out[9] = key.vmPort & 0xff;
  out[10] = (key.remotePort >>> 8) & 0xff;
  out[11] = key.remotePort & 0xff;
  out[12] = key.protocol & 0xff;
  return out;
}

/** The four candidate slots of a stateful_edge flow: the crc32 bucket's two, then the crc16 bucket's. */
export function candidateSlots(key: FlowKey): [number, number, number, number] {
  const b = flowKeyBytes(key, SCRATCH);
  const c0 = (crc32(b) % CT_REGION0_BUCKETS) * CT_WAYS;
  const c2 = CT_REGION0_SIZE + (crc16(b) % CT_REGION1_BUCKETS) * CT_WAYS;
  return [c0, c0 + 1, c2, c2 + 1];
}

/** What a probe learns about one candidate slot. */
export interface SlotProbe {
  /** The slot's stored key equals the flow's key. */
  readonly matches: boolean;
  /** A new flow may take the slot (empty, CLOSED or idle past its timeout). */
  readonly free: boolean;
}

/** Where a flow lands: an existing slot, a new one, or nowhere; `candidate` indexes the candidates. */
export type SlotChoice =
  | { readonly kind: 'hit'; readonly slot: number; readonly candidate: number }
  | { readonly kind: 'insert'; readonly slot: number; readonly candidate: number }
  | { readonly kind: 'collision' };

/** Applies the collision rule: first matching candidate, else first free one, else collision. */
export function chooseSlot(candidates: readonly number[], probe: (slot: number) => SlotProbe): SlotChoice {
  const probes = candidates.map((slot) => probe(slot));
  for (const [i, p] of probes.entries()) if (p.matches) return { kind: 'hit', slot: candidates[i] ?? 0, candidate: i };
  for (const [i, p] of probes.entries()) if (p.free) return { kind: 'insert', slot: candidates[i] ?? 0, candidate: i };
  return { kind: 'collision' };
}

/** The canonical key of a packet: VM side first, whatever the direction (dir 0 = from the VM). */
export function canonicalFlowKey(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  protocol: number,
  dir: 0 | 1,
): FlowKey {
  return dir === 0
    ? { vmAddr: src, remoteAddr: dst, vmPort: srcPort, remotePort: dstPort, protocol }
    : { vmAddr: dst, remoteAddr: src, vmPort: dstPort, remotePort: srcPort, protocol };
}

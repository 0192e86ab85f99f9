/**
 * Slot placement for a hash-indexed slot group, read from the contract rather than hard-coded:
 * which slots a flow may occupy, and which one a new flow takes (p4/README.md "Placement").
 *
 * Each hash choice i covers slots [base_i, base_i + max_i), cut into buckets of `ways` adjacent
 * slots; the flow's bucket is algo_i(key bytes) mod (max_i / ways), the key bytes being the
 * big-endian concatenation of the key fields. Candidates are, choice by choice, the bucket's
 * slots in order. A packet belongs to the candidate whose stored key equals its own; a new flow
 * takes the first free candidate; with none free it is a collision. A controller placing a flow
 * on a destination runs exactly this (v1model `hash(bucket, algo, 0, key, max / ways)`).
 */
import { applyBaseAndMax, hashBytes, isHashAlgorithm } from 'p4runtime-ts';
import type { HashAlgorithm } from 'p4runtime-ts';
import { EdgePluginError } from '../errors.js';

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

function invalid(where: string, annotation: string, message: string): EdgePluginError {
  return new EdgePluginError('CONTRACT_INVALID', `${where}: ${message}`, { entity: where, annotation: `@${annotation}` });
}

/**
 * Checks a placement spec — whole-byte key fields, known algorithms, choices inside the index
 * space, regions a whole number of buckets — and returns it frozen.
 * @param where names the owner in errors, e.g. `slot group 'conntrack'`.
 */
export function validatePlacementSpec(spec: PlacementSpec, where = 'placement'): PlacementSpec {
  if (spec.keyFields.length === 0) throw invalid(where, 'migrate_key', 'the key has no fields; list at least one layout field in @migrate_key("f f ...")');
  for (const f of spec.keyFields) {
    if (!Number.isInteger(f.bits) || f.bits <= 0 || f.bits % 8 !== 0) {
      throw invalid(where, 'migrate_key', `key field '${f.name}' is ${f.bits} bits; hash inputs must be whole bytes (BMv2's packing of partial bytes was not measured): widen the field in @migrate_layout or leave it out of the key`);
    }
  }
  if (!Number.isSafeInteger(spec.ways) || spec.ways < 1) throw invalid(where, 'migrate_ways', `ways ${spec.ways} must be a positive integer; write @migrate_ways(n) with n >= 1`);
  if (!Number.isSafeInteger(spec.slots) || spec.slots < 1) throw invalid(where, 'migrate_group', `the index space has ${spec.slots} slots; registers of a group need size >= 1`);
  if (spec.choices.length === 0) throw invalid(where, 'migrate_hash', 'no hash choice; write @migrate_hash("algo", base, max, ...) with at least one triple');
  for (const [i, c] of spec.choices.entries()) {
    if (!isHashAlgorithm(c.algo)) throw invalid(where, 'migrate_hash', `choice ${i + 1} names algorithm '${String(c.algo)}'; use crc32, crc16 or csum16`);
    if (!Number.isSafeInteger(c.base) || c.base < 0 || !Number.isSafeInteger(c.max) || c.max <= 0 || c.base + c.max > spec.slots) {
      throw invalid(where, 'migrate_hash', `choice ${i + 1} (${c.algo}, base ${c.base}, max ${c.max}) does not fit the ${spec.slots}-slot index space; need 0 <= base, 0 < max and base + max <= ${spec.slots}`);
    }
    if (c.max % spec.ways !== 0) {
      throw invalid(where, 'migrate_hash', `choice ${i + 1} covers ${c.max} slots, not a whole number of ${spec.ways}-slot buckets; make max a multiple of @migrate_ways`);
    }
  }
  return Object.freeze({
    keyFields: Object.freeze(spec.keyFields.map((f) => Object.freeze({ name: f.name, bits: f.bits }))),
    choices: Object.freeze(spec.choices.map((c) => Object.freeze({ algo: c.algo, base: c.base, max: c.max }))),
    ways: spec.ways,
    slots: spec.slots,
  });
}

/** Big-endian concatenation of the key fields in spec order (the hash input). */
export function keyBytes(spec: PlacementSpec, fields: Readonly<Record<string, number | bigint>>): Uint8Array {
  const total = spec.keyFields.reduce((n, f) => n + f.bits / 8, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of spec.keyFields) {
    const raw = fields[f.name];
    if (raw === undefined) throw new EdgePluginError('VALUE_RANGE', `placement: key field '${f.name}' is missing from the flow; give every field of ${spec.keyFields.map((k) => k.name).join(', ')}`);
    let v = BigInt(raw);
    if (v < 0n || v >= 1n << BigInt(f.bits)) throw new EdgePluginError('VALUE_RANGE', `placement: key field '${f.name}' = ${v} does not fit ${f.bits} bits`);
    for (let b = f.bits / 8 - 1; b >= 0; b--) {
      out[o + b] = Number(v & 0xffn);
      v >>= 8n;
    }
    o += f.bits / 8;
  }
  return out;
}

/** The candidate slots of a flow, in probe order. */
export function candidateSlotsFor(spec: PlacementSpec, fields: Readonly<Record<string, number | bigint>>): number[] {
  const bytes = keyBytes(spec, fields);
  const out: number[] = [];
  for (const c of spec.choices) {
    const bucket = applyBaseAndMax(hashBytes(c.algo, bytes), 0, c.max / spec.ways);
    for (let w = 0; w < spec.ways; w++) out.push(c.base + bucket * spec.ways + w);
  }
  return out;
}

/** What a probe learns about one candidate slot. */
export interface SlotProbe {
  /** The slot's stored key equals the flow's key. */
  readonly matches: boolean;
  /** A new flow may take the slot (empty, or whatever the program counts as free). */
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

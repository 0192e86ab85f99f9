/**
 * Which part of a source's batch each destination receives — the one rule wherever batches are
 * split (the controller's engine, a destination domain's controller, a source plugin sending peer
 * to peer): a path device's state goes whole to its counterpart; each edge flow goes to the
 * destination edge its path hits (the placement hash in 1:N, else the only one); per-VM counters go to one destination only (the first: in 1:N they would otherwise be
 * counted once per destination); table entries go to every destination, their direct counters
 * only to the first.
 */
import { concatFields, hashBytes } from 'p4runtime-ts';
import { DeviceApiFailure } from './migration-sessions.js';
import type { StateBatch } from './device-api.js';

/** The hash a fabric's ECMP computes over a flow's key, choosing among `devices` in order. */
export interface FlowPlacement {
  readonly algorithm: 'crc32' | 'crc16' | 'csum16';
  /** The flow-key fields hashed, in order. */
  readonly fields: readonly string[];
  /** The devices chosen among, in the hash's order. */
  readonly devices: readonly string[];
}

/** Destinations of a migration and, with several, how flows are placed among them. */
export interface SplitPlan {
  /** Device names; the first receives the per-VM counters. */
  readonly destinations: readonly string[];
  readonly placement: FlowPlacement | undefined;
  /** The edge destinations flows are placed among, when `destinations` also holds path devices. */
  readonly edges?: readonly string[];
  /** A path device's counterpart among the destinations: its batches go there whole. */
  readonly counterparts?: ReadonlyMap<string, string>;
}

/** The slot group's key fields (name and width), as the source's capabilities list them. */
export type KeyFieldSpec = readonly { readonly name: string; readonly bits: number }[];

/** A flow key field: name, value, width. */
export interface KeyFieldValue {
  readonly name: string;
  readonly value: bigint | number;
  readonly bits: number;
}

/**
 * Why a placement over `fields` cannot hash a flow keyed by `keyNames` (the first field the key
 * lacks, and the key's fields), or undefined when it can. Shared by the migration and by the
 * controller's plan-time check, so both refuse the same placements.
 */
export function placementFieldLacking(fields: readonly string[], keyNames: readonly string[]): { readonly field: string; readonly reason: string } | undefined {
  const field = fields.find((f) => !keyNames.includes(f));
  return field === undefined ? undefined : { field, reason: `the placement hashes field '${field}', which the flow key lacks (it has ${keyNames.join(', ')})` };
}

/**
 * The destination a flow belongs to: the only one, or the placement's choice — hash of the named
 * key fields (in the placement's order, at their widths) modulo the number of devices.
 * @throws DeviceApiFailure PEER_REJECTED when several destinations have no placement, or it hashes a field the key lacks.
 */
export function placeFlow(plan: SplitPlan, key: readonly KeyFieldValue[]): string {
  const edges = plan.edges ?? plan.destinations;
  if (edges.length === 1) return edges[0] as string;
  const p = plan.placement;
  if (!p) throw new DeviceApiFailure('PEER_REJECTED', `${edges.length} destinations (${edges.join(', ')}) but no placement function to choose among them`);
  const lacking = placementFieldLacking(p.fields, key.map((k) => k.name));
  if (lacking !== undefined) throw new DeviceApiFailure('PEER_REJECTED', lacking.reason);
  const fields = p.fields.map((name) => {
    const f = key.find((k) => k.name === name) as KeyFieldValue;
    return { value: f.value, bits: f.bits };
  });
  return p.devices[hashBytes(p.algorithm, concatFields(fields)) % p.devices.length] as string;
}

/**
 * `batch` from `source` split by destination name: a path device's batch goes whole to its
 * counterpart; an edge's is split over the edge destinations (each present, possibly empty).
 */
export function splitBatch(plan: SplitPlan, keyFields: KeyFieldSpec, batch: StateBatch, source?: string): Map<string, StateBatch> {
  const counterpart = source === undefined ? undefined : plan.counterparts?.get(source);
  const names = counterpart !== undefined ? [counterpart] : (plan.edges ?? plan.destinations);
  const byDest = new Map<string, readonly StateBatch['slots'][number][]>();
  if (counterpart !== undefined || names.length === 1) {
    // One destination takes every flow: no key to build per flow (the final batch is in the pause).
    byDest.set(names[0] as string, batch.slots);
  } else {
    const lists = new Map<string, StateBatch['slots'][number][]>(names.map((d) => [d, []]));
    for (const rec of batch.slots) {
      const key = keyFields.map((f) => ({ name: f.name, bits: f.bits, value: rec.fields[f.name] ?? 0n }));
      lists.get(placeFlow(plan, key))?.push(rec);
    }
    for (const [d, l] of lists) byDest.set(d, l);
  }
  const primary = names[0];
  const { counters, tableEntries, ...rest } = batch;
  return new Map(names.map((d) => {
    const entries = tableEntries && (d === primary ? tableEntries : tableEntries.map(({ counter: _c, ...e }) => e));
    return [d, { ...rest, slots: byDest.get(d) ?? [], ...(counters && d === primary ? { counters } : {}), ...(entries ? { tableEntries: entries } : {}) }];
  }));
}

/**
 * The plan as one source sees it: a path device's counterpart alone, or the edge destinations with
 * the placement — what a source plugin sending peer to peer needs (the wire carries no counterparts).
 */
export function planForSource(plan: SplitPlan, source: string): SplitPlan {
  const counterpart = plan.counterparts?.get(source);
  if (counterpart !== undefined) return { destinations: [counterpart], placement: undefined };
  return { destinations: plan.edges ?? plan.destinations, placement: plan.placement };
}

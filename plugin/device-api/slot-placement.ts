/**
 * Installing a source's slots at this (destination) device: each flow's VM id replaced by this
 * switch's id for the VM, its `@migrate_clock` field rebased from the source's data-plane clock to
 * this one's, then placed by this switch's own hashes with conditional writes (WRITE_IF): a slot
 * is taken only when empty or already holding the same flow, so an import never overwrites a
 * live flow; the next candidate is tried, and with none left the flow is a KEY_COLLISION.
 */
import type { SlotGroupSpec } from '../contract/index.js';
import { bitMask, candidateSlotsFor, coveredWords, encodeSlotWords, fieldValue, setFieldValue, slotLayoutCode } from '../contract/index.js';
import type { RegisterAccess } from '../state-access/index.js';
import type { PlacedFlows } from './placed-flows.js';
import { DeviceApiFailure } from './migration-sessions.js';

/** A flow's key as one string (the group's key fields, in order). */
export function flowKeyString(group: SlotGroupSpec, fields: Readonly<Record<string, bigint>>): string {
  const code = slotLayoutCode(group);
  if (code) return code.keyString(fields);
  // A loop, not map + join: this runs for every flow of every batch.
  const key = group.key;
  let s = String(fields[key[0]?.name ?? ''] ?? 0n);
  for (let i = 1; i < key.length; i++) s += `/${String(fields[(key[i] as { name: string }).name] ?? 0n)}`;
  return s;
}

/** How a source's fields become this device's: VM id and clock. */
export interface Translation {
  readonly vmId: number;
  /** The source's data-plane clock when the batch was read (undefined: no rebase). */
  readonly sourceClock: bigint | undefined;
  readonly localClock: bigint;
}

/** The fields as this device must hold them: VM id remapped, the clock field rebased by the flow's age. */
export function translateFields(group: SlotGroupSpec, fields: Readonly<Record<string, bigint>>, t: Translation): Record<string, bigint> {
  const out: Record<string, bigint> = { ...fields, [group.vm.name]: BigInt(t.vmId) };
  const clock = group.clock?.field;
  if (clock && t.sourceClock !== undefined) {
    const seen = fields[clock.name] ?? 0n;
    if (seen !== 0n) out[clock.name] = rebased(seen, t.sourceClock, t.localClock, clock.bits);
  }
  return out;
}

/**
 * translateFields on a slot's words, for words in this group's own layout (sameSlotLayout): the
 * same words as encoding the translated fields, without a field record.
 */
export function translateWords(group: SlotGroupSpec, words: readonly bigint[], t: Translation): bigint[] {
  const out = coveredWords(group, words);
  setFieldValue(out, group.vm, BigInt(t.vmId));
  const clock = group.clock?.field;
  if (clock && t.sourceClock !== undefined) {
    const seen = fieldValue(out, clock);
    if (seen !== 0n) setFieldValue(out, clock, rebased(seen, t.sourceClock, t.localClock, clock.bits));
  }
  return out;
}

/** A timestamp `seen` on the source's clock moved to the local one, keeping its age (at least 1, at most the field's maximum). */
function rebased(seen: bigint, sourceClock: bigint, localClock: bigint, bits: number): bigint {
  const age = sourceClock > seen ? sourceClock - seen : 0n;
  const max = bitMask(bits);
  const r = localClock > age ? localClock - age : 1n;
  return r > max ? max : r;
}

/**
 * Writes each flow at its first candidate that is empty or holds it (the slot already used for
 * this flow first), updating `placed`; returns how many were written.
 * @throws DeviceApiFailure KEY_COLLISION naming the flow when every candidate holds another flow.
 */
export async function placeSlots(access: RegisterAccess, flows: readonly Readonly<Record<string, bigint>>[], placed: PlacedFlows, device: string): Promise<number> {
  const g = access.group;
  type Pending = { readonly key: string; readonly flow: Readonly<Record<string, bigint>>; readonly words: bigint[]; candidates: number[]; hashed: boolean; at: number };
  // A flow already placed here (a changed flow of an earlier round, the usual final batch) tries
  // its own slot first; its hashed candidates are computed only if that slot is refused.
  const withHashes = (p: Pending): void => {
    const own = p.candidates[0];
    const hashed = candidateSlotsFor(g.placement, p.flow);
    p.candidates = own === undefined ? hashed : [own, ...hashed.filter((s) => s !== own)];
    p.hashed = true;
  };
  let pending: Pending[] = flows.map((f) => {
    const key = flowKeyString(g, f);
    const own = placed.get(key)?.slot;
    const p: Pending = { key, flow: f, words: encodeSlotWords(g, f), candidates: own === undefined ? [] : [own], hashed: false, at: 0 };
    if (own === undefined) withHashes(p);
    return p;
  });
  let written = 0;
  while (pending.length > 0) {
    // One conditional write per slot per pass: two flows aiming at one slot go in turn.
    const used = new Set<number>();
    const now: Pending[] = [];
    const later: Pending[] = [];
    for (const p of pending) {
      const slot = p.candidates[p.at];
      if (slot === undefined) {
        const vmName = g.vm.name;
        throw new DeviceApiFailure('KEY_COLLISION', `device ${device}: flow ${p.key} (VM id ${fieldValue(p.words, g.vm)} in ${vmName}) has no free slot: all ${p.candidates.length} candidates hold other flows; free slots on this switch or abort`);
      }
      if (used.has(slot)) later.push(p);
      else {
        used.add(slot);
        now.push(p);
      }
    }
    const outcomes = await access.writeSlotsIf(now.map((p) => ({ index: p.candidates[p.at] as number, words: p.words })));
    now.forEach((p, i) => {
      const o = outcomes[i];
      if (o?.applied) {
        placed.set(p.key, o.index, p.words);
        written++;
      } else {
        if (placed.get(p.key)?.slot === p.candidates[p.at]) placed.delete(p.key);
        if (!p.hashed) withHashes(p);
        p.at++;
        later.push(p);
      }
    });
    pending = later;
  }
  return written;
}

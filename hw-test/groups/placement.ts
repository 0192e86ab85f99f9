/**
 * Group 3 — placement: our hash functions against the values BMv2 computed in the lab, the slot
 * computation read from the P4Info's annotations against those measured hashes, and, for every
 * flow the target tracked in the workload, the slot it used against the slot we compute.
 */
import { hashBytes, concatFields } from 'p4runtime-ts';
import { BMV2_HASH_VECTORS } from '../../p4/testdata/bmv2-hash-vectors.js';
import type { Bmv2HashVector } from '../../p4/testdata/bmv2-hash-vectors.js';
import { candidateSlotsFor, fieldValue, slotKey } from '../../plugin/index.js';
import { fail, pass, unsupported } from '../check-recorder.js';
import { describeSlot } from '../slot-format.js';
import { runWorkload } from '../workload-run.js';
import type { HwTestGroup } from './group.js';

const LAB_LAYOUT = [32, 32, 16, 16, 8];

function labBytes(v: Bmv2HashVector): Uint8Array {
  return concatFields([v.src, v.dst, v.sport, v.dport, v.proto].map((value, i) => ({ value, bits: LAB_LAYOUT[i] ?? 8 })));
}

const keyString = (k: Readonly<Record<string, bigint>>): string => Object.values(k).join('/');

/** The placement group. */
export const placementGroup: HwTestGroup = {
  id: 'placement',
  title: '3. Placement (TypeScript slot computation against the target)',
  async run(s, rec) {
    const g = s.group;
    await rec.check('hash-functions', 'hash functions equal BMv2 (lab vectors)', async () => {
      const vectors = BMV2_HASH_VECTORS;
      const bad: string[] = [];
      for (const v of vectors) {
        const b = labBytes(v);
        const got = { crc32: hashBytes('crc32', b), crc16: hashBytes('crc16', b), csum16: hashBytes('csum16', b) };
        const want = { crc32: v.crc32, crc16: v.crc16, csum16: v.csum16 };
        for (const k of ['crc32', 'crc16', 'csum16'] as const) if (got[k] !== want[k]) bad.push(`${v.src}/${v.dst}/${v.sport}/${v.dport}/${v.proto}: ${k} ours ${got[k]}, BMv2 ${want[k]}`);
        if (got.crc32 % 65536 !== v.crc32_mod_65536) bad.push(`${v.src}/…: crc32 mod 65536 ours ${got.crc32 % 65536}, BMv2 ${v.crc32_mod_65536}`);
        if (got.crc16 % 1000 !== v.crc16_mod_1000) bad.push(`${v.src}/…: crc16 mod 1000 ours ${got.crc16 % 1000}, BMv2 ${v.crc16_mod_1000}`);
      }
      if (bad.length === 0) return pass(`crc32, crc16, csum16 and their mod values equal BMv2's for all ${vectors.length} lab vectors`);
      return fail(`${bad.length} values differ from BMv2's`, { code: '-', message: '' }, bad.slice(0, s.o.maxDiffs));
    });
    await rec.check('contract-placement', 'P4Info placement against BMv2-measured hashes', async () => {
      const p = g.placement;
      const widths = p.keyFields.map((f) => f.bits);
      if (widths.join(',') !== LAB_LAYOUT.join(',')) return unsupported(`the lab vectors hash a 13-byte 5-tuple (${LAB_LAYOUT.join('+')} bits); this key is ${widths.join('+')} bits`);
      const vectors = BMV2_HASH_VECTORS;
      const bad: string[] = [];
      for (const v of vectors) {
        const key = Object.fromEntries(p.keyFields.map((f, i) => [f.name, [v.src, v.dst, v.sport, v.dport, v.proto][i] ?? 0]));
        const measured: Record<string, number> = { crc32: v.crc32, crc16: v.crc16, csum16: v.csum16 };
        const want = p.choices.flatMap((c) => {
          const bucket = (measured[c.algo] ?? 0) % (c.max / p.ways);
          return Array.from({ length: p.ways }, (_, j) => c.base + bucket * p.ways + j);
        });
        const got = candidateSlotsFor(p, key);
        if (got.join(',') !== want.join(',')) bad.push(`${Object.values(key).join('/')}: computed [${got.join(', ')}], from BMv2's hashes [${want.join(', ')}]`);
      }
      const choices = p.choices.map((c) => `${c.algo}(base ${c.base}, max ${c.max})`).join(' then ');
      if (bad.length === 0) return pass(`${g.slots} slots, ${choices}, ${p.ways} ways: candidates of all ${vectors.length} lab vectors equal those from BMv2's measured hashes`);
      return fail(`${bad.length} of ${vectors.length} vectors place differently`, { code: '-', message: '' }, bad.slice(0, s.o.maxDiffs));
    });
    await rec.check('target-placement', 'each tracked flow in its computed slot', async () => {
      const r = await runWorkload(s);
      const order = new Map(r.flows.map((f) => [keyString(f.key), f.firstPacket]));
      const occupant = (slot: number): { key: string; first: number } | undefined => {
        const w = r.target.get(slot);
        if (!w || fieldValue(w, g.valid) === 0n) return undefined;
        const k = keyString(slotKey(g, w));
        const before = r.before.get(slot);
        const pre = before !== undefined && fieldValue(before, g.valid) !== 0n;
        return { key: k, first: pre && !order.has(k) ? -1 : (order.get(k) ?? -1) };
      };
      const bad: string[] = [];
      let tracked = 0;
      let first = 0;
      for (const slot of r.slots) {
        const me = occupant(slot);
        const w = r.target.get(slot);
        if (!me || !w || !order.has(me.key)) continue;
        tracked++;
        const cands = candidateSlotsFor(g.placement, slotKey(g, w));
        const j = cands.indexOf(slot);
        if (j < 0) {
          bad.push(`slot ${slot} holds ${describeSlot(g, w)}, which is not one of its computed candidates [${cands.join(', ')}]`);
          continue;
        }
        if (j === 0) first++;
        for (const c of cands.slice(0, j)) {
          const other = occupant(c);
          if (!other || other.key === me.key || other.first > me.first) {
            bad.push(`slot ${slot} holds ${describeSlot(g, w)} in candidate ${j + 1} of [${cands.join(', ')}], but candidate slot ${c} was ${other ? 'taken only by a later flow' : 'free'}`);
            break;
          }
        }
      }
      if (tracked === 0) return fail('the target tracked none of the workload\'s flows (no occupied slot holds a workload key)');
      if (bad.length === 0) return pass(`${tracked} flows tracked by the target, each in the slot we compute (${first} in their first candidate, ${tracked - first} further down after earlier flows took the first)`);
      return fail(`${bad.length} of ${tracked} tracked flows are not where we compute them`, { code: '-', message: '' }, bad.slice(0, s.o.maxDiffs));
    });
  },
};

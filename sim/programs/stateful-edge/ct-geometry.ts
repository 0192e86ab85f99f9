/**
 * The conntrack slot group's geometry: the two hash regions (algorithm, size) and what follows
 * from them (slots, buckets, dirty bitmap words), and the width of the last_seen cell. The default
 * is p4/include/defines.p4's; a variant is what `p4c-bm2-ss -DCT_HASH0=… -DCT_REGION0_SIZE=…
 * -DCT_LAST_SEEN_BITS=…` builds (same program, another size, other hashes or a wider cell), so the
 * sim can run the program a switch of another generation would.
 */
import { hashBytes, isHashAlgorithm } from 'p4runtime-ts';
import type { HashAlgorithm } from 'p4runtime-ts';
import type { ProgramRegister } from '../../program.js';
import { CT_LAST_SEEN_BITS, CT_REGION0_SIZE, CT_REGION1_SIZE, CT_WAYS } from './layout.js';
import { flowKeyBytes } from './placement.js';
import type { FlowKey } from './placement.js';

/** One hash region: the algorithm picks a bucket of CT_WAYS slots among `size / CT_WAYS`. */
export interface CtRegion {
  readonly algo: HashAlgorithm;
  readonly base: number;
  readonly size: number;
  readonly buckets: number;
}

/** Everything size- and hash-dependent in the conntrack control. */
export interface CtGeometry {
  /** Region 0 (first choice), then region 1. */
  readonly regions: readonly [CtRegion, CtRegion];
  readonly slots: number;
  readonly dirtyWordsPerBuffer: number;
  readonly dirtyWords: number;
  /** Width of ct_last_seen's cells and of ct_delta_t's copy (48..64; the timestamp is 48 bits either way). */
  readonly lastSeenBits: number;
}

/** What a variant chooses: each region's hash algorithm and size in slots, and last_seen's width (default 48). */
export interface CtGeometryOptions {
  readonly hash0: string;
  readonly region0: number;
  readonly hash1: string;
  readonly region1: number;
  readonly lastSeenBits?: number;
}

/**
 * The geometry of a variant, checked as defines.p4's #error lines check a build: sizes positive
 * multiples of CT_WAYS, a 16-bit hash not asked to address more buckets than it can reach.
 * @throws Error naming the option and what is expected.
 */
export function ctGeometry(o: CtGeometryOptions): CtGeometry {
  const region = (algo: string, base: number, size: number, which: string): CtRegion => {
    if (!isHashAlgorithm(algo)) throw new Error(`stateful_edge variant: ${which} hash '${algo}' is not one of crc32, crc16, csum16`);
    if (!Number.isSafeInteger(size) || size < CT_WAYS || size % CT_WAYS !== 0) throw new Error(`stateful_edge variant: ${which} size ${size} must be a positive multiple of ${CT_WAYS} (slots per bucket)`);
    const buckets = size / CT_WAYS;
    if (algo !== 'crc32' && buckets > 65536) throw new Error(`stateful_edge variant: ${which} has ${buckets} buckets but ${algo} yields 16 bits (at most 65536 buckets); use crc32 there or a smaller region`);
    return Object.freeze({ algo, base, size, buckets });
  };
  const r0 = region(o.hash0, 0, o.region0, 'region 0');
  const r1 = region(o.hash1, o.region0, o.region1, 'region 1');
  const slots = r0.size + r1.size;
  const dirtyWordsPerBuffer = Math.ceil(slots / 64);
  const lastSeenBits = o.lastSeenBits ?? CT_LAST_SEEN_BITS;
  if (!Number.isSafeInteger(lastSeenBits) || lastSeenBits < 48 || lastSeenBits > 64) throw new Error(`stateful_edge variant: lastSeenBits ${lastSeenBits} must be 48..64 (a 48-bit timestamp in a cell of at most 64 bits)`);
  return Object.freeze({ regions: Object.freeze([r0, r1] as const), slots, dirtyWordsPerBuffer, dirtyWords: 2 * dirtyWordsPerBuffer, lastSeenBits });
}

/** p4/include/defines.p4 as committed. */
export const DEFAULT_CT_GEOMETRY: CtGeometry = ctGeometry({ hash0: 'crc32', region0: CT_REGION0_SIZE, hash1: 'crc16', region1: CT_REGION1_SIZE });

/**
 * The geometry a pushed P4Info was built with: its `@migrate_hash` (hashes and regions) and
 * ct_last_seen's width, what p4c writes for the -D options. Undefined when the P4Info does not say,
 * or says something no build of stateful_edge makes (then the committed geometry runs).
 */
export function geometryFromRegisters(registers: readonly ProgramRegister[]): CtGeometry | undefined {
  let hash: RegExpExecArray | null = null;
  for (const r of registers) {
    for (const a of r.annotations) hash ??= /^@migrate_hash\(\s*"(\w+)"\s*,\s*0\s*,\s*(\d+)\s*,\s*"(\w+)"\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(a.trim());
  }
  if (!hash) return undefined;
  const [, hash0 = '', r0 = '', hash1 = '', base1 = '', r1 = ''] = hash;
  if (base1 !== r0) return undefined;
  const lastSeenBits = registers.find((r) => r.name === 'ct_last_seen')?.bitwidth;
  try {
    const g = ctGeometry({ hash0, region0: Number(r0), hash1, region1: Number(r1), ...(lastSeenBits !== undefined ? { lastSeenBits } : {}) });
    // Every slot-group register is as large as the two regions, in a build p4c made.
    const slotRegisters = registers.filter((r) => r.annotations.some((a) => a.startsWith('@migrate_group(')));
    return slotRegisters.every((r) => r.size === g.slots) ? g : undefined;
  } catch {
    return undefined;
  }
}

/** The four candidate slots of a flow in `g`: region 0's bucket's two, then region 1's. */
export function candidateSlotsIn(g: CtGeometry, key: FlowKey): [number, number, number, number] {
  const b = flowKeyBytes(key);
  const [r0, r1] = g.regions;
  const c0 = r0.base + (hashBytes(r0.algo, b) % r0.buckets) * CT_WAYS;
  const c2 = r1.base + (hashBytes(r1.algo, b) % r1.buckets) * CT_WAYS;
  return [c0, c0 + 1, c2, c2 + 1];
}

/** Whether `g` is the committed program's geometry (the model then runs its original code path). */
export function isDefaultGeometry(g: CtGeometry): boolean {
  const [a, b] = g.regions;
  const [x, y] = DEFAULT_CT_GEOMETRY.regions;
  return a.algo === x.algo && a.size === x.size && b.algo === y.algo && b.size === y.size && g.lastSeenBits === DEFAULT_CT_GEOMETRY.lastSeenBits;
}

/** The p4c-bm2-ss options that build `g` from p4/stateful_edge.p4 (p4/include/defines.p4). */
export function p4cDefines(g: CtGeometry): string[] {
  const [r0, r1] = g.regions;
  const d: Record<string, string | number> = {
    CT_HASH0: r0.algo, CT_HASH1: r1.algo, CT_REGION0_SIZE: r0.size, CT_REGION1_SIZE: r1.size, CT_REGION0_BUCKETS: r0.buckets, CT_REGION1_BUCKETS: r1.buckets,
    CT_SLOTS: g.slots, DIRTY_WORDS_PER_BUFFER: g.dirtyWordsPerBuffer, DIRTY_WORDS: g.dirtyWords,
    // Only when it differs: the committed build's command lines stay as they were.
    ...(g.lastSeenBits !== CT_LAST_SEEN_BITS ? { CT_LAST_SEEN_BITS: g.lastSeenBits } : {}),
  };
  return Object.entries(d).map(([k, v]) => `-D${k}=${v}`);
}

/**
 * The P4Info of a variant, from the committed one: every conntrack-sized register resized, the
 * dirty bitmap resized, @migrate_hash naming the variant's hashes and regions, and ct_last_seen's
 * width (the register, its @migrate_layout and ct_delta_t's member) — what p4c writes for the
 * variant's -D options (checked against real p4c when CARRYOVER_P4C is set).
 */
export function variantP4InfoText(committed: string, g: CtGeometry): string {
  const d = DEFAULT_CT_GEOMETRY;
  const [r0, r1] = g.regions;
  const hash = (x: CtGeometry): string => `@migrate_hash(\\"${x.regions[0].algo}\\" , 0 , ${x.regions[0].size} , \\"${x.regions[1].algo}\\" , ${x.regions[1].base} , ${x.regions[1].size})`;
  const edits: [string, string][] = [
    [hash(d), `@migrate_hash(\\"${r0.algo}\\" , 0 , ${r0.size} , \\"${r1.algo}\\" , ${r1.base} , ${r1.size})`],
    [`size: ${d.slots}\n`, `size: ${g.slots}\n`],
    [`size: ${d.dirtyWords}\n`, `size: ${g.dirtyWords}\n`],
  ];
  if (g.lastSeenBits !== d.lastSeenBits) {
    const width = (bits: number): string => `bitstring {\n      bit {\n        bitwidth: ${bits}\n`;
    edits.push(
      [`@migrate_layout(\\"last_seen:${d.lastSeenBits}\\")"\n  }\n  type_spec {\n    ${width(d.lastSeenBits)}`, `@migrate_layout(\\"last_seen:${g.lastSeenBits}\\")"\n  }\n  type_spec {\n    ${width(g.lastSeenBits)}`],
      [`name: "ct_last_seen"\n        type_spec {\n          bitstring {\n            bit {\n              bitwidth: ${d.lastSeenBits}\n`, `name: "ct_last_seen"\n        type_spec {\n          bitstring {\n            bit {\n              bitwidth: ${g.lastSeenBits}\n`],
    );
  }
  let t = committed;
  for (const [from, to] of edits) {
    if (!t.includes(from)) throw new Error(`stateful_edge variant: the committed P4Info has no '${from.trim()}'; is it stateful_edge's?`);
    t = t.split(from).join(to);
  }
  return t;
}

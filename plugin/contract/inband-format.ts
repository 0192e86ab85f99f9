/**
 * The in-band state access format (p4/README.md "In-band state access"): which slot group the
 * pipeline serves over PacketOut/PacketIn, the controller headers' fields, the op and status
 * codes, and requests/answers as metadata records by field name (what P4Runtime PacketOut and
 * PacketIn carry). Field names and op codes are fixed by the contract; widths come from the P4Info.
 */
import type { ControllerHeaderInfo, P4Schema } from 'p4runtime-ts';
import { arity, contractError, onlyOne, stringArg } from './annotation-reader.js';
import type { SlotGroupSpec } from './slot-group.js';

/** packet_out.op values. */
export const INBAND_OP = Object.freeze({ INJECT: 0, READ_SLOT: 1, WRITE_SLOT: 2, READ_DIRTY: 3, CLEAR_DIRTY: 4, FLIP_EPOCH: 5, READ_EPOCH: 6 } as const);
export type InbandOpName = Exclude<keyof typeof INBAND_OP, 'INJECT'>;

/** packet_in.status values. */
export const INBAND_STATUS = Object.freeze({ OK: 0, BAD_INDEX: 1, BAD_OP: 2 } as const);

/** One metadata field of a controller header. */
export interface HeaderField {
  readonly name: string;
  readonly bits: number;
}

/** The in-band service of one slot group. */
export interface InbandSpec {
  readonly group: string;
  readonly packetOutHeader: string;
  readonly packetInHeader: string;
  /** Every packet_out field in P4Info order (a PacketOut must carry each one). */
  readonly requestFields: readonly HeaderField[];
  readonly answerFields: readonly HeaderField[];
  /** Width of req_id: request ids wrap at 2^reqIdBits. */
  readonly reqIdBits: number;
  /** Word fields w0..w{W-1}. */
  readonly wordFields: readonly string[];
  /** Width of `ts` in the answer, 0 when the header has none. */
  readonly tsBits: number;
}

/** An in-band request. */
export interface InbandRequest {
  readonly op: number;
  readonly reqId: number;
  readonly index: number;
  readonly mask?: number;
  readonly words?: readonly bigint[];
}

/** A decoded in-band answer. */
export interface InbandAnswer {
  readonly op: number;
  readonly status: number;
  readonly reqId: number;
  readonly index: number;
  /** Data-plane time when served (the header's `ts`), 0n when absent. */
  readonly ts: bigint;
  readonly words: readonly bigint[];
}

/** Narrowest req_id the in-band client accepts (a contract with a narrower one is refused at load). */
export const MIN_REQ_ID_BITS = 16;

const FORM = '@migrate_inband("group") on both controller headers (packet_out and packet_in)';
const OUT_FIELDS = ['op', 'req_id', 'port', 'index', 'mask'] as const;
const IN_FIELDS = ['op', 'status', 'req_id', 'index'] as const;

function bitsFor(n: number): number {
  return n <= 1 ? 1 : Math.ceil(Math.log2(n));
}

function checkHeader(h: ControllerHeaderInfo, names: readonly string[], group: SlotGroupSpec, minBits: Readonly<Record<string, number>>): void {
  for (const name of names) {
    const f = h.metadata.find((m) => m.name === name);
    if (!f) {
      throw contractError(h, 'migrate_inband', `controller header '${h.alias}' has no field '${name}'; the in-band format of slot group '${group.name}' needs ${names.join(', ')} (p4/README.md "In-band state access")`);
    }
    const need = minBits[name] ?? 1;
    if (f.bitwidth < need) {
      const why = name === 'req_id' ? 'so in-band request ids can stay unused long enough for late answers to be recognised' : `for slot group '${group.name}'`;
      throw contractError(h, 'migrate_inband', `field '${name}' of '${h.alias}' is ${f.bitwidth} bits; it must hold at least ${need} bits ${why}: widen it to bit<${need}> or more`);
    }
  }
}

/** Reads the in-band service declaration; undefined when no controller header carries @migrate_inband. */
export function readInband(schema: P4Schema, groups: readonly SlotGroupSpec[]): InbandSpec | undefined {
  const first = schema.controllerHeaders.find((h) => onlyOne(h, 'migrate_inband'));
  if (!first) return undefined;
  const byName = (n: string): ControllerHeaderInfo | undefined => schema.controllerHeaders.find((h) => h.name === n || h.alias === n);
  const out = byName('packet_out');
  const inn = byName('packet_in');
  const groupOf = (h: ControllerHeaderInfo): string => {
    const a = onlyOne(h, 'migrate_inband');
    if (!a) throw contractError(h, 'migrate_inband', `the other controller header carries @migrate_inband but this one does not; write ${FORM}`, 'CONTRACT_MISSING');
    arity(h, a, 1, 1, FORM);
    return stringArg(h, a, 0, FORM);
  };
  if (!out || !inn) {
    throw contractError(first, 'migrate_inband', `in-band access needs controller headers named packet_out and packet_in; the P4Info has ${schema.controllerHeaders.map((h) => h.alias).join(', ')}`, 'CONTRACT_MISSING');
  }
  const gOut = groupOf(out);
  const gIn = groupOf(inn);
  if (gOut !== gIn) throw contractError(inn, 'migrate_inband', `packet_out serves slot group '${gOut}' but packet_in names '${gIn}'; name the same group on both`);
  const group = groups.find((g) => g.name === gOut);
  if (!group) throw contractError(out, 'migrate_inband', `@migrate_inband names slot group '${gOut}', which no @migrate_group declares (groups: ${groups.map((g) => g.name).join(', ') || 'none'})`);

  const W = group.words.length;
  const wordFields = group.words.map((_, i) => `w${i}`);
  const indexSpace = Math.max(group.slots, group.dirty?.words ?? 0);
  // req_id: at least 16 bits, so the client can keep recently used ids out of reuse (a late
  // answer must not be taken for a new request's) and still find free ones (p4/README.md).
  const minBits: Record<string, number> = { op: 3, req_id: MIN_REQ_ID_BITS, index: bitsFor(indexSpace), mask: W, port: 1, status: 2 };
  group.words.forEach((w, i) => {
    minBits[`w${i}`] = Math.max(w.bits, i === 0 ? Math.max(group.dirty?.slotsPerWord ?? 0, group.dirty?.epochBits ?? 0) : 0);
  });
  checkHeader(out, [...OUT_FIELDS, ...wordFields], group, minBits);
  checkHeader(inn, [...IN_FIELDS, ...wordFields], group, minBits);
  const reqOut = out.metadata.find((m) => m.name === 'req_id')?.bitwidth ?? 0;
  const reqIn = inn.metadata.find((m) => m.name === 'req_id')?.bitwidth ?? 0;
  if (reqOut !== reqIn) throw contractError(inn, 'migrate_inband', `req_id is ${reqOut} bits in packet_out but ${reqIn} in packet_in; give both the same width`);
  return Object.freeze({
    group: group.name,
    packetOutHeader: out.alias,
    packetInHeader: inn.alias,
    requestFields: Object.freeze(out.metadata.map((m) => Object.freeze({ name: m.name, bits: m.bitwidth }))),
    answerFields: Object.freeze(inn.metadata.map((m) => Object.freeze({ name: m.name, bits: m.bitwidth }))),
    reqIdBits: Math.min(reqOut, 32),
    wordFields: Object.freeze(wordFields),
    tsBits: inn.metadata.find((m) => m.name === 'ts')?.bitwidth ?? 0,
  });
}

/** A spec's records laid out once: the request template in header order and the word field names. */
interface CompiledFormat {
  readonly template: Readonly<Record<string, bigint>>;
  readonly words: readonly string[];
}

const compiled = new WeakMap<InbandSpec, CompiledFormat>();

function layout(spec: InbandSpec): CompiledFormat {
  let c = compiled.get(spec);
  if (!c) {
    const template: Record<string, bigint> = {};
    for (const f of spec.requestFields) template[f.name] = 0n;
    c = { template, words: spec.wordFields };
    compiled.set(spec, c);
  }
  return c;
}

/** The packet_out metadata record of a request: every field of the header, unused ones 0. */
export function encodeInbandRequest(spec: InbandSpec, req: InbandRequest): Record<string, bigint> {
  const c = layout(spec);
  // A copy of one template keeps every record the same shape, in header order, with no per-field loop.
  const md: Record<string, bigint> = { ...c.template };
  md.op = BigInt(req.op);
  md.req_id = BigInt(req.reqId >>> 0);
  md.index = BigInt(req.index >>> 0);
  if (req.mask) md.mask = BigInt(req.mask);
  const words = req.words;
  if (words) {
    const names = c.words;
    for (let i = 0; i < names.length && i < words.length; i++) md[names[i] as string] = words[i] ?? 0n;
  }
  return md;
}

/** Decodes a PacketIn's metadata as an in-band answer; undefined when it is not one (no req_id, op 0). */
export function decodeInbandAnswer(spec: InbandSpec, md: Readonly<Record<string, bigint>>): InbandAnswer | undefined {
  const op = md.op;
  const reqId = md.req_id;
  if (op === undefined || reqId === undefined || op === 0n) return undefined;
  const names = layout(spec).words;
  const words = new Array<bigint>(names.length);
  for (let i = 0; i < names.length; i++) words[i] = md[names[i] as string] ?? 0n;
  return { op: Number(op), status: Number(md.status ?? 0n), reqId: Number(reqId), index: Number(md.index ?? 0n), ts: md.ts ?? 0n, words };
}

/**
 * The in-band state access format (p4/README.md "In-band access"): the packet_out / packet_in
 * controller headers as metadata records (what P4Runtime PacketOut/PacketIn carry, by field name)
 * and as raw bytes (what BMv2 prepends on the CPU port), plus the service the pipeline runs for
 * a request. Requests and replies are plain values; sending them is the caller's business.
 */
import type { PipelineEnv } from '../../program.js';
import {
  CT_LAST_SEEN_BITS,
  CT_SLOTS,
  CT_WORD_COUNT,
  CT_WORDS,
  DIRTY_WORDS,
  InbandOp,
  InbandStatus,
  LAST_SEEN_WORD,
  Names,
  PACKET_IN_FIELDS,
  PACKET_OUT_FIELDS,
  TRACKERS,
  TRK_LOG_CELLS,
} from './layout.js';
import { readLogCells, trackerOp } from './change-log.js';
import { MASK48 } from './slot.js';

/** A decoded packet_out header. */
export interface PacketOutHeader {
  readonly op: number;
  readonly reqId: number;
  readonly port: number;
  readonly index: number;
  readonly mask: number;
  /** w0..w8. */
  readonly words: readonly bigint[];
}

/** A decoded packet_in header. */
export interface PacketInHeader {
  readonly op: number;
  readonly status: number;
  readonly reqId: number;
  readonly index: number;
  /** Data-plane time when the request was served, microseconds. */
  readonly tsUs: bigint;
  readonly words: readonly bigint[];
}

const widthMask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

/** Reads a packet_out metadata record by field name; absent fields are 0, wide values are cut to width. */
export function decodePacketOutMetadata(md: Readonly<Record<string, bigint>>): PacketOutHeader {
  const v: Record<string, bigint> = {};
  for (const f of PACKET_OUT_FIELDS) v[f.name] = (md[f.name] ?? 0n) & widthMask(f.bits);
  return {
    op: Number(v.op),
    reqId: Number(v.req_id),
    port: Number(v.port),
    index: Number(v.index),
    mask: Number(v.mask),
    words: CT_WORDS.map((_, i) => v[`w${i}`] ?? 0n),
  };
}

/** The metadata record of a packet_out header (what a PacketOut carries). */
export function encodePacketOutMetadata(h: PacketOutHeader): Record<string, bigint> {
  const md: Record<string, bigint> = {
    op: BigInt(h.op),
    req_id: BigInt(h.reqId >>> 0),
    port: BigInt(h.port),
    index: BigInt(h.index >>> 0),
    mask: BigInt(h.mask),
  };
  for (let i = 0; i < CT_WORD_COUNT; i++) md[`w${i}`] = h.words[i] ?? 0n;
  return md;
}

/** Reads a packet_in metadata record by field name. */
export function decodePacketInMetadata(md: Readonly<Record<string, bigint>>): PacketInHeader {
  const v: Record<string, bigint> = {};
  for (const f of PACKET_IN_FIELDS) v[f.name] = (md[f.name] ?? 0n) & widthMask(f.bits);
  return {
    op: Number(v.op),
    status: Number(v.status),
    reqId: Number(v.req_id),
    index: Number(v.index),
    tsUs: v.ts ?? 0n,
    words: CT_WORDS.map((_, i) => v[`w${i}`] ?? 0n),
  };
}

/** Big-endian bytes of a header given field widths and values in field order. */
function packFields(fields: readonly { readonly bits: number }[], values: readonly bigint[]): Uint8Array {
  const total = fields.reduce((n, f) => n + f.bits / 8, 0);
  const out = new Uint8Array(total);
  let o = 0;
  fields.forEach((f, i) => {
    let v = (values[i] ?? 0n) & widthMask(f.bits);
    const n = f.bits / 8;
    for (let b = n - 1; b >= 0; b--) {
      out[o + b] = Number(v & 0xffn);
      v >>= 8n;
    }
    o += n;
  });
  return out;
}

function unpackFields(fields: readonly { readonly name: string; readonly bits: number }[], bytes: Uint8Array): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  let o = 0;
  for (const f of fields) {
    let v = 0n;
    for (let b = 0; b < f.bits / 8; b++) v = (v << 8n) | BigInt(bytes[o + b] ?? 0);
    out[f.name] = v;
    o += f.bits / 8;
  }
  return out;
}

/** The 85 bytes BMv2 prepends to a PacketOut's payload for this header. */
export function encodePacketOutBytes(h: PacketOutHeader): Uint8Array {
  const md = encodePacketOutMetadata(h);
  return packFields(PACKET_OUT_FIELDS, PACKET_OUT_FIELDS.map((f) => md[f.name] ?? 0n));
}

/** Decodes the packet_out header at the start of `bytes` (at least 85 bytes). */
export function decodePacketOutBytes(bytes: Uint8Array): PacketOutHeader {
  return decodePacketOutMetadata(unpackFields(PACKET_OUT_FIELDS, bytes));
}

/** The metadata record of a packet_in header (what a PacketIn carries). */
export function encodePacketInMetadata(h: PacketInHeader): Record<string, bigint> {
  const md: Record<string, bigint> = {
    op: BigInt(h.op),
    status: BigInt(h.status),
    req_id: BigInt(h.reqId >>> 0),
    index: BigInt(h.index >>> 0),
    ts: h.tsUs & MASK48,
  };
  for (let i = 0; i < CT_WORD_COUNT; i++) md[`w${i}`] = h.words[i] ?? 0n;
  return md;
}

/** The 88 bytes BMv2 prepends to a PacketIn for this header. */
export function encodePacketInBytes(h: PacketInHeader): Uint8Array {
  const md = encodePacketInMetadata(h);
  return packFields(PACKET_IN_FIELDS, PACKET_IN_FIELDS.map((f) => md[f.name] ?? 0n));
}

/** Options of one in-band request. */
export interface InbandRequest {
  readonly op: number;
  readonly reqId: number;
  readonly index?: number;
  /** WRITE_SLOT: bit n set = write word n. */
  readonly mask?: number;
  readonly words?: readonly bigint[];
}

/** A packet_out metadata record for an in-band request (empty PacketOut payload). */
export function inbandRequestMetadata(req: InbandRequest): Record<string, bigint> {
  if (!Number.isInteger(req.op) || req.op <= 0 || req.op > 255) {
    throw new Error(`in-band op ${req.op} is not a request op; expected 1..255 (0 is OP_INJECT, a frame)`);
  }
  return encodePacketOutMetadata({
    op: req.op,
    reqId: req.reqId,
    port: 0,
    index: req.index ?? 0,
    mask: req.mask ?? 0,
    words: req.words ?? [],
  });
}

/** A packet_out metadata record that injects a frame as if it arrived on `port`. */
export function injectMetadata(port: number, reqId = 0): Record<string, bigint> {
  if (!Number.isInteger(port) || port < 0 || port > 511) throw new Error(`inject port ${port} must be a 9-bit port number (0..511)`);
  return encodePacketOutMetadata({ op: InbandOp.INJECT, reqId, port, index: 0, mask: 0, words: [] });
}

/** The index bounds of the in-band ops (a variant's sizes; the committed program's by default). */
export interface InbandLimits {
  readonly slots: number;
  readonly dirtyWords: number;
  /** ct_last_seen's width (CT_LAST_SEEN_BITS when not given): a write keeps that many bits of w5. */
  readonly lastSeenBits?: number;
}

/** Serves one in-band request against the switch state, as conntrack.p4's in-band branch does. */
export function serveInband(po: PacketOutHeader, env: PipelineEnv, nowUs: bigint, limits: InbandLimits = { slots: CT_SLOTS, dirtyWords: DIRTY_WORDS }): PacketInHeader {
  const words: bigint[] = new Array<bigint>(CT_WORD_COUNT).fill(0n);
  let status: number = InbandStatus.OK;
  const idx = po.index >>> 0;
  switch (po.op) {
    case InbandOp.READ_SLOT:
    case InbandOp.WRITE_SLOT:
    case InbandOp.WRITE_IF:
    case InbandOp.CLEAR_IF: {
      if (idx >= limits.slots) {
        status = InbandStatus.BAD_INDEX;
        break;
      }
      // Read first: the conditional ops decide on what the slot holds now, in the same pass.
      const cur = CT_WORDS.map((w) => env.registerRead(w.register, idx));
      const given = (i: number): bigint => (po.words[i] ?? 0n) & widthMask(i === LAST_SEEN_WORD ? (limits.lastSeenBits ?? CT_LAST_SEEN_BITS) : (CT_WORDS[i]?.bits ?? 64));
      const protocol = (cur[1] ?? 0n) & 0xffn;
      const holds = cur[0] === given(0) && cur[1] === given(1);
      const put = po.op === InbandOp.WRITE_SLOT || (po.op === InbandOp.WRITE_IF && (protocol === 0n || holds));
      const clear = po.op === InbandOp.CLEAR_IF && protocol !== 0n && holds && (cur[2] ?? 0n) >> 48n === given(2) >> 48n;
      if ((po.op === InbandOp.WRITE_IF && !put) || (po.op === InbandOp.CLEAR_IF && !clear)) status = InbandStatus.CONFLICT;
      CT_WORDS.forEach((w, i) => {
        words[i] = cur[i] ?? 0n;
        if (put && (po.mask >> i) & 1) {
          words[i] = given(i);
          env.registerWrite(w.register, idx, given(i));
        }
        // A clear answers what the slot held before.
        if (clear) env.registerWrite(w.register, idx, 0n);
      });
      break;
    }
    case InbandOp.READ_DIRTY:
    case InbandOp.CLEAR_DIRTY:
      if (idx >= limits.dirtyWords) {
        status = InbandStatus.BAD_INDEX;
        break;
      }
      words[0] = env.registerRead(Names.registers.dirty, idx);
      if (po.op === InbandOp.CLEAR_DIRTY) env.registerWrite(Names.registers.dirty, idx, 0n);
      break;
    case InbandOp.FLIP_EPOCH: {
      // Conditional when mask bit 0 is set: flips only from the epoch in w0[31:0].
      let e = env.registerRead(Names.registers.epoch, 0);
      if ((po.mask & 1) === 1 && e !== ((po.words[0] ?? 0n) & 0xffffffffn)) {
        status = InbandStatus.CONFLICT;
      } else {
        e = (e + 1n) & 0xffffffffn;
        env.registerWrite(Names.registers.epoch, 0, e);
      }
      words[0] = e;
      break;
    }
    case InbandOp.READ_EPOCH:
      words[0] = env.registerRead(Names.registers.epoch, 0);
      break;
    case InbandOp.READ_CLOCK:
      words[0] = nowUs & MASK48;
      break;
    case InbandOp.TRK_FLIP:
    case InbandOp.TRK_READ: {
      if (idx >= TRACKERS) {
        status = InbandStatus.BAD_INDEX;
        break;
      }
      const r = trackerOp(env, idx, po.op === InbandOp.TRK_FLIP, (po.mask & 1) === 1 ? (po.words[0] ?? 0n) : undefined);
      if (r.conflict) status = InbandStatus.CONFLICT;
      r.words.forEach((w, i) => {
        words[i] = w;
      });
      break;
    }
    case InbandOp.LOG_READ:
      if (idx >= TRK_LOG_CELLS) {
        status = InbandStatus.BAD_INDEX;
        break;
      }
      readLogCells(env, idx, CT_WORD_COUNT).forEach((w, i) => {
        words[i] = w;
      });
      break;
    default:
      status = InbandStatus.BAD_OP;
  }
  return { op: po.op, status, reqId: po.reqId, index: idx, tsUs: nowUs & MASK48, words };
}

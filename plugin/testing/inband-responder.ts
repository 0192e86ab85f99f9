/**
 * An in-memory stand-in for a pipeline's in-band service (p4/README.md "In-band state access"),
 * built from the contract alone: it holds the slot group's registers, the dirty bitmap and the
 * epoch, serves requests like the P4 does, and misbehaves on demand — drops requests or answers,
 * delays answers, answers twice — so the in-band client's window, retries and duplicate
 * handling can be tested without a switch. Answers are delivered asynchronously (setImmediate),
 * as a real stream would.
 */
import { Subject } from 'rxjs';
import { INBAND_OP, INBAND_STATUS } from '../contract/index.js';
import type { InbandSpec, SlotGroupSpec } from '../contract/index.js';
import type { InbandChannel } from '../state-access/index.js';

/** What the double does with one request. */
export type ResponderFate = 'answer' | 'drop-request' | 'drop-answer' | 'duplicate' | { readonly delayMs: number };

/** A decoded request as the double saw it. */
export interface SeenRequest {
  readonly op: number;
  readonly reqId: number;
  readonly index: number;
}

const widthMask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

/** The pipeline's in-band service, in memory. */
export class InbandResponderDouble implements InbandChannel {
  private readonly answers = new Subject<Readonly<Record<string, bigint>>>();
  readonly answers$ = this.answers.asObservable();
  readonly registers: BigUint64Array[];
  readonly dirty: BigUint64Array;
  epoch = 0n;
  /** Every request received, in order. */
  readonly seen: SeenRequest[] = [];
  /** Requests received whose answer is neither delivered nor dropped yet. */
  private inSwitch = 0;
  maxInSwitch = 0;
  /** Decides each request's fate (default: answer). */
  fate: (req: SeenRequest, nth: number) => ResponderFate = () => 'answer';
  /** Delayed answers waiting for `releaseDelayed()`. */
  private delayed: { readonly due: number; readonly md: Record<string, bigint> }[] = [];

  constructor(
    private readonly spec: InbandSpec,
    private readonly group: SlotGroupSpec,
    private readonly now: () => number,
  ) {
    this.registers = group.words.map(() => new BigUint64Array(group.slots));
    this.dirty = new BigUint64Array(group.dirty?.words ?? 0);
  }

  /** Sets slot `index` to `words` (cut to each register's width). */
  setSlot(index: number, words: readonly bigint[]): void {
    this.group.words.forEach((w, i) => {
      const r = this.registers[i];
      if (r) r[index] = (words[i] ?? 0n) & widthMask(w.bits);
    });
  }

  /** The words of slot `index`. */
  slot(index: number): bigint[] {
    return this.registers.map((r) => r[index] ?? 0n);
  }

  send(md: Readonly<Record<string, bigint>>): void {
    for (const f of this.spec.requestFields) {
      if (md[f.name] === undefined) throw new Error(`in-band double: PacketOut lacks field '${f.name}'`);
    }
    const req: SeenRequest = { op: Number(md.op), reqId: Number(md.req_id), index: Number(md.index) };
    const nth = this.seen.length;
    this.seen.push(req);
    const fate = this.fate(req, nth);
    if (fate === 'drop-request') return;
    const answer = this.serve(md);
    if (fate === 'drop-answer') return;
    this.inSwitch++;
    this.maxInSwitch = Math.max(this.maxInSwitch, this.inSwitch);
    if (typeof fate === 'object') {
      this.delayed.push({ due: this.now() + fate.delayMs, md: answer });
      return;
    }
    setImmediate(() => {
      this.inSwitch--;
      this.answers.next(answer);
      if (fate === 'duplicate') this.answers.next({ ...answer });
    });
  }

  /** Delivers delayed answers that are due by now (call after advancing the clock). */
  releaseDelayed(): void {
    const due = this.delayed.filter((d) => d.due <= this.now());
    this.delayed = this.delayed.filter((d) => d.due > this.now());
    for (const d of due) {
      this.inSwitch--;
      this.answers.next(d.md);
    }
  }

  /** Emits an answer no request asked for (another client's, or garbage). */
  stray(reqId: number, op: number = INBAND_OP.READ_SLOT): void {
    this.answers.next(this.blankAnswer(op, reqId, 0));
  }

  private blankAnswer(op: number, reqId: number, index: number): Record<string, bigint> {
    const md: Record<string, bigint> = {};
    for (const f of this.spec.answerFields) md[f.name] = 0n;
    md.op = BigInt(op);
    md.req_id = BigInt(reqId);
    md.index = BigInt(index);
    md.ts = BigInt(Math.floor(this.now() * 1000)) & widthMask(this.spec.tsBits || 48);
    return md;
  }

  private serve(md: Readonly<Record<string, bigint>>): Record<string, bigint> {
    const op = Number(md.op);
    const index = Number(md.index);
    const out = this.blankAnswer(op, Number(md.req_id), index);
    const g = this.group;
    const d = g.dirty;
    const put = (i: number, v: bigint): void => {
      const name = this.spec.wordFields[i];
      if (name) out[name] = v;
    };
    switch (op) {
      case INBAND_OP.READ_SLOT:
      case INBAND_OP.WRITE_SLOT:
        if (index >= g.slots) {
          out.status = BigInt(INBAND_STATUS.BAD_INDEX);
          break;
        }
        if (op === INBAND_OP.WRITE_SLOT) {
          const mask = Number(md.mask);
          g.words.forEach((w, i) => {
            const r = this.registers[i];
            if (r && (mask >> i) & 1) r[index] = (md[this.spec.wordFields[i] ?? ''] ?? 0n) & widthMask(w.bits);
          });
        }
        this.registers.forEach((r, i) => put(i, r[index] ?? 0n));
        break;
      case INBAND_OP.READ_DIRTY:
      case INBAND_OP.CLEAR_DIRTY:
        if (!d || index >= d.words) {
          out.status = BigInt(INBAND_STATUS.BAD_INDEX);
          break;
        }
        put(0, this.dirty[index] ?? 0n);
        if (op === INBAND_OP.CLEAR_DIRTY) this.dirty[index] = 0n;
        break;
      case INBAND_OP.FLIP_EPOCH:
        // Conditional when mask bit 0 is set: flips only from the epoch in w0.
        if ((Number(md.mask) & 1) === 1 && this.epoch !== (md[this.spec.wordFields[0] ?? ''] ?? 0n)) out.status = BigInt(INBAND_STATUS.CONFLICT);
        else this.epoch = (this.epoch + 1n) & widthMask(d?.epochBits ?? 32);
        put(0, this.epoch);
        break;
      case INBAND_OP.READ_EPOCH:
        put(0, this.epoch);
        break;
      default:
        out.status = BigInt(INBAND_STATUS.BAD_OP);
    }
    return out;
  }
}

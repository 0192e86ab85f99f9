/**
 * In-band request ids: handed out in sequence (mod 2^bits) from a random start, skipping ids
 * still held by attempts in flight. Because they go out in sequence, "used recently" is a
 * subtraction — an answer whose id lies within the remembered distance behind the next id, and is
 * no longer held, answers an attempt already answered or abandoned (a duplicate); any other
 * unknown id is a stray. No set of remembered ids to maintain or evict.
 */
import { randomInt } from 'node:crypto';
import { MIN_REQ_ID_BITS } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import type { InbandOptions } from './inband-options.js';

/** How many recent ids answers are classified against: a late answer within it is a duplicate. */
function rememberedIds(window: number, idSpace: number): number {
  return Math.min(Math.max(4096, 4 * window), Math.floor(idSpace / 2));
}

/** The id sequence of one in-band client. */
export class RequestIds {
  private readonly space: number;
  private readonly remembered: number;
  private next: number;
  /** Ids handed out so far, capped at `remembered` (before that, older ids were never ours). */
  private issued = 0;

  /** @throws EdgePluginError CONTRACT_INVALID for a req_id under 16 bits, BAD_OPTIONS when the window would hold too many ids. */
  constructor(bits: number, options: Pick<InbandOptions, 'window' | 'maxAttempts'>) {
    if (!Number.isInteger(bits) || bits < MIN_REQ_ID_BITS) {
      throw new EdgePluginError('CONTRACT_INVALID', `in-band req_id is ${bits} bits; the in-band client needs at least ${MIN_REQ_ID_BITS} (widen req_id in packet_out and packet_in)`, { annotation: '@migrate_inband' });
    }
    this.space = 2 ** Math.min(bits, 32);
    this.remembered = rememberedIds(options.window, this.space);
    // Every id held at once (each request in the window with all its attempts) plus the remembered
    // ones must leave free ids, or handing one out could not succeed.
    const held = options.window * options.maxAttempts;
    if (held + this.remembered >= this.space) {
      throw new EdgePluginError('BAD_OPTIONS', `inband.window ${options.window} × maxAttempts ${options.maxAttempts} = ${held} ids held at once does not fit a ${bits}-bit req_id with ${this.remembered} remembered; lower the window or maxAttempts`);
    }
    // A random start keeps a restarted client from taking a predecessor's late answers as its own.
    this.next = randomInt(0, Math.min(this.space, 2 ** 31));
  }

  /** The next id not in `held`; ends within held.size + 1 steps (held ids are fewer than the space). */
  take(held: ReadonlyMap<number, unknown>): number {
    for (let tries = 0; tries < this.space; tries++) {
      const id = this.next;
      this.next = id + 1 === this.space ? 0 : id + 1;
      if (!held.has(id)) {
        if (this.issued < this.remembered) this.issued++;
        return id;
      }
    }
    throw new EdgePluginError('INTERNAL', `in-band client: all ${this.space} request ids are held`);
  }

  /** True when `id` was handed out within the remembered distance behind the next id. */
  recentlyIssued(id: number): boolean {
    if (!Number.isInteger(id) || id < 0 || id >= this.space) return false;
    const behind = (this.next - 1 - id + this.space) % this.space;
    return behind < Math.min(this.issued, this.remembered);
  }
}

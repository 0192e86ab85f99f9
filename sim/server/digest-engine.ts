/**
 * Digest lists (P4Runtime spec, DigestEntry): per digest a buffer of distinct messages, flushed as
 * one DigestList when it holds max_list_size messages or max_timeout_ns after its first message;
 * a cache of sent-but-unacknowledged data (dropped on DigestListAck or after ack_timeout_ns) so the
 * same data is not sent again meanwhile.
 *
 * `bmv2-coarse` timing reproduces what the lab measured on simple_switch_grpc: a partly filled
 * list waits at least 200 ms and leaves on a 100 ms grid (≈200–300 ms, the lab saw 200–330 ms)
 * whatever max_timeout_ns asks; with max_timeout_ns below 1 ms nothing is ever delivered.
 */
import { p4 } from 'p4runtime-ts/proto';
import type { Scheduler, TimerHandle } from '../clock.js';
import { u64 } from '../p4rt/int64.js';
import type { DigestConfig } from '../pipeline/forwarding-state.js';

/** BMv2 model constants (lab, 2026-11-24). */
export const BMV2_DIGEST_MIN_WAIT_MS = 200;
export const BMV2_DIGEST_GRID_MS = 100;
export const BMV2_DIGEST_DEAD_BELOW_NS = 1_000_000n;

interface Buffered {
  readonly key: string;
  readonly data: p4.v1.P4Data.$Properties;
}

interface DigestState {
  buffer: Buffered[];
  readonly bufferKeys: Set<string>;
  timer: TimerHandle | null;
  /** data key -> list id it was sent in (unacknowledged). */
  readonly cache: Map<string, bigint>;
  readonly lists: Map<bigint, { readonly keys: readonly string[]; timer: TimerHandle | null }>;
  nextListId: bigint;
}

/** Counters for tests and logs. */
export interface DigestStats {
  emitted: number;
  /** Lost by fault injection before reaching a list. */
  lost: number;
  duplicates: number;
  unconfigured: number;
  undeliverable: number;
  listsSent: number;
  listsDropped: number;
}

export interface DigestEngineOptions {
  readonly scheduler: Scheduler;
  readonly timing: 'spec' | 'bmv2-coarse';
  readonly configOf: (digestId: number) => DigestConfig | undefined;
  /** Delivers a list to the primary controller(s); false when there is none (the list is dropped). */
  readonly send: (list: p4.v1.DigestList.$Properties) => boolean;
  /** Fault injection: true when this message is to be lost (SimFaults.loseNextDigests). */
  readonly lose?: () => boolean;
}

/** Buffers, deduplicates and delivers digest messages for one pipeline. */
export class DigestEngine {
  private readonly digests = new Map<number, DigestState>();
  private readonly origin: number;
  readonly stats: DigestStats = { emitted: 0, lost: 0, duplicates: 0, unconfigured: 0, undeliverable: 0, listsSent: 0, listsDropped: 0 };

  constructor(private readonly o: DigestEngineOptions) {
    this.origin = o.scheduler.now();
  }

  private state(id: number): DigestState {
    let s = this.digests.get(id);
    if (!s) {
      s = { buffer: [], bufferKeys: new Set(), timer: null, cache: new Map(), lists: new Map(), nextListId: 1n };
      this.digests.set(id, s);
    }
    return s;
  }

  /** A digest message from the data plane. */
  emit(digestId: number, data: p4.v1.P4Data.$Properties): void {
    const cfg = this.o.configOf(digestId);
    if (!cfg) {
      this.stats.unconfigured++;
      return;
    }
    if (this.o.timing === 'bmv2-coarse' && cfg.maxTimeoutNs > 0n && cfg.maxTimeoutNs < BMV2_DIGEST_DEAD_BELOW_NS) {
      this.stats.undeliverable++;
      return;
    }
    if (this.o.lose?.() === true) {
      this.stats.lost++;
      return;
    }
    const s = this.state(digestId);
    const key = Buffer.from(p4.v1.P4Data.encode(data).finish()).toString('hex');
    if (s.cache.has(key) || s.bufferKeys.has(key)) {
      this.stats.duplicates++;
      return;
    }
    this.stats.emitted++;
    s.buffer.push({ key, data });
    s.bufferKeys.add(key);
    if (cfg.maxTimeoutNs === 0n || cfg.maxListSize === 1 || (cfg.maxListSize > 0 && s.buffer.length >= cfg.maxListSize)) {
      this.flush(digestId);
      return;
    }
    if (s.buffer.length === 1) {
      const now = this.o.scheduler.now();
      s.timer = this.o.scheduler.setTimer(this.delayMs(cfg, now), () => {
        s.timer = null;
        this.flush(digestId);
      });
    }
  }

  private delayMs(cfg: DigestConfig, now: number): number {
    const asked = Number(cfg.maxTimeoutNs) / 1e6;
    if (this.o.timing === 'spec') return asked;
    const due = now + Math.max(asked, BMV2_DIGEST_MIN_WAIT_MS);
    const grid = this.origin + Math.ceil((due - this.origin) / BMV2_DIGEST_GRID_MS) * BMV2_DIGEST_GRID_MS;
    return grid - now;
  }

  private flush(digestId: number): void {
    const s = this.state(digestId);
    if (s.timer) {
      this.o.scheduler.clearTimer(s.timer);
      s.timer = null;
    }
    if (s.buffer.length === 0) return;
    const items = s.buffer;
    s.buffer = [];
    s.bufferKeys.clear();
    const cfg = this.o.configOf(digestId);
    if (!cfg) {
      this.stats.listsDropped++;
      return;
    }
    const listId = s.nextListId++;
    const sent = this.o.send({ digestId, listId: u64(listId), data: items.map((b) => b.data), timestamp: u64(this.o.scheduler.wallNs()) });
    if (!sent) {
      this.stats.listsDropped++;
      return;
    }
    this.stats.listsSent++;
    if (cfg.ackTimeoutNs === 0n) return;
    const keys = items.map((b) => b.key);
    for (const k of keys) s.cache.set(k, listId);
    const entry = { keys, timer: null as TimerHandle | null };
    entry.timer = this.o.scheduler.setTimer(Number(cfg.ackTimeoutNs) / 1e6, () => this.forget(digestId, listId));
    s.lists.set(listId, entry);
  }

  private forget(digestId: number, listId: bigint): void {
    const s = this.digests.get(digestId);
    const entry = s?.lists.get(listId);
    if (!s || !entry) return;
    if (entry.timer) this.o.scheduler.clearTimer(entry.timer);
    s.lists.delete(listId);
    for (const k of entry.keys) if (s.cache.get(k) === listId) s.cache.delete(k);
  }

  /** A DigestListAck: the list's data may be sent again from now on. */
  ack(digestId: number, listId: bigint): void {
    this.forget(digestId, listId);
  }

  /** Unacknowledged lists of a digest, for tests. */
  unacknowledged(digestId: number): bigint[] {
    return [...(this.digests.get(digestId)?.lists.keys() ?? [])];
  }

  /** Drops every buffer, cache entry and timer (pipeline change, restart). */
  reset(): void {
    for (const s of this.digests.values()) {
      if (s.timer) this.o.scheduler.clearTimer(s.timer);
      for (const l of s.lists.values()) if (l.timer) this.o.scheduler.clearTimer(l.timer);
    }
    this.digests.clear();
  }
}

/**
 * The per-migration change logs of conntrack.p4 (p4/README.md "Change logs"): the append a
 * tracked VM's slot change makes, and the in-band ops on trackers and log entries. Registers:
 * ct_trk_head[t] (entries ever appended), ct_trk_round[t] = epoch ++ start, ct_trk_log (one
 * ring of TRK_LOG_SIZE entries per tracker, entry = seq ++ slot), ct_mark[slot] =
 * (tracker + 1) ++ seq of the slot's last entry, and ct_trk_changes[t] (every change numbered).
 */
import type { PipelineEnv } from '../../program.js';
import { NO_TRACKER, Names, TRACKERS, TRK_LOG_MASK, TRK_LOG_SIZE } from './layout.js';

const MASK32 = 0xffffffffn;

/** Where a change sits in its tracker's log, and its number (what ct_delta_t carries). */
export interface LoggedChange {
  readonly tracker: number;
  readonly epoch: bigint;
  readonly seq: bigint;
  /** The tracker's changes before this one. */
  readonly change: bigint;
}

/** A change that is in no log (untracked VM, or a tracker id past TRACKERS). */
export const UNLOGGED: LoggedChange = Object.freeze({ tracker: NO_TRACKER, epoch: 0n, seq: 0n, change: 0n });

/**
 * The change-log step of a tracked VM's slot change: appends the slot unless it already has an
 * entry in the tracker's current round (mark names this tracker and a seq in [start, head)).
 */
export function logChange(env: PipelineEnv, tracker: number, slot: number): LoggedChange {
  if (tracker >= TRACKERS) return UNLOGGED;
  const head = env.registerRead(Names.registers.trkHead, tracker);
  const round = env.registerRead(Names.registers.trkRound, tracker);
  const mark = env.registerRead(Names.registers.mark, slot);
  const start = round & MASK32;
  const me = BigInt(tracker + 1);
  let seq = mark & MASK32;
  // Unsigned 32-bit distances, as the P4: seq - start >= head - start means "not in this round".
  if (mark >> 32n !== me || ((seq - start) & MASK32) >= ((head - start) & MASK32)) {
    seq = head;
    const cell = tracker * TRK_LOG_SIZE + Number(head & BigInt(TRK_LOG_MASK));
    env.registerWrite(Names.registers.trkLog, cell, (head << 32n) | BigInt(slot >>> 0));
    env.registerWrite(Names.registers.mark, slot, (me << 32n) | head);
    env.registerWrite(Names.registers.trkHead, tracker, (head + 1n) & MASK32);
  }
  const change = env.registerRead(Names.registers.trkChanges, tracker);
  env.registerWrite(Names.registers.trkChanges, tracker, (change + 1n) & MASK32);
  return { tracker, epoch: round >> 32n, seq, change };
}

/** OP_TRK_FLIP / OP_TRK_READ: epoch, head, start, changes of tracker `t`; a flip starts a new round at the head. */
export function trackerOp(env: PipelineEnv, t: number, flip: boolean, expectEpoch: bigint | undefined): { conflict: boolean; words: bigint[] } {
  const head = env.registerRead(Names.registers.trkHead, t);
  let round = env.registerRead(Names.registers.trkRound, t);
  let conflict = false;
  if (flip) {
    if (expectEpoch !== undefined && round >> 32n !== (expectEpoch & MASK32)) {
      conflict = true;
    } else {
      round = ((((round >> 32n) + 1n) & MASK32) << 32n) | head;
      env.registerWrite(Names.registers.trkRound, t, round);
    }
  }
  return { conflict, words: [round >> 32n, head, round & MASK32, env.registerRead(Names.registers.trkChanges, t)] };
}

/** OP_LOG_READ: nine consecutive cells of the ring holding `cell`, wrapping inside the ring. */
export function readLogCells(env: PipelineEnv, cell: number, count: number): bigint[] {
  const ring = cell & ~TRK_LOG_MASK;
  return Array.from({ length: count }, (_, k) => env.registerRead(Names.registers.trkLog, ring | ((cell + k) & TRK_LOG_MASK)));
}

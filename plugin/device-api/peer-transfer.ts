/**
 * Peer-to-peer transfer (issue 14): the source plugin sends the VM's state straight to the
 * destination plugins while the controller only coordinates the phases and keeps the proof.
 * Pre-copy: the snapshot — once every destination showed room for its share — then each delta
 * batch as the source produces it; the final delta after the freeze, from the sequence the
 * controller names. Each batch is split by the one rule (split-batch.ts: placement in 1:N, counters
 * to the first, table entries everywhere), so N:1 and 1:N work as through the controller.
 *
 * Flow control end to end: one batch is in flight to the destinations at a time; batches the
 * source produces meanwhile are merged flow by flow (the newest record of a flow wins), so a slow
 * destination slows the source's sending and what waits is bounded by the VM's flows, never by how
 * long the destination lags. Every acknowledged batch is reported to the controller (its sequence
 * marks: the completeness proof stays the controller's).
 */
import { Observable } from 'rxjs';
import type { Subscription } from 'rxjs';
import { mergeBatches } from '../protocol/delta-coalescer.js';
import { checkCapacityClaim, checkRoom } from './capacity.js';
import { isQuietBatch } from './device-api.js';
import type { DeviceApi, DeviceCapabilities, ImportResult, MigrationRef, StateBatch } from './device-api.js';
import { asDeviceFailure } from './device-failure.js';
import { DeviceApiFailure } from './migration-sessions.js';
import { splitBatch } from './split-batch.js';
import type { KeyFieldSpec, SplitPlan } from './split-batch.js';

/**
 * What the source does: pre-copy (snapshot, then deltas until the freeze) or the final delta —
 * with `freeze`, freezing first itself; with `activate` (one destination), the final batch going
 * with the destination's activation when it covers everything from `sinceSeq`.
 */
export type TransferMode =
  | { readonly kind: 'precopy' }
  | {
      readonly kind: 'final'; readonly sinceSeq: bigint; readonly freeze?: boolean; readonly activate?: boolean;
      /** With freeze: how long the source may stay frozen waiting on the destinations (ms: the pause deadline and a grace); past it the source undoes its freeze and the migration, and fails. */
      readonly budgetMs?: number;
    };

/** A transfer the controller asks of a source. */
export interface TransferRequest {
  readonly plan: SplitPlan;
  readonly mode: TransferMode;
}

/** One batch every destination acknowledged. */
export interface TransferProgress {
  /** 0 for the snapshot, then 1, 2, … in sending order (the final batch is marked `final`). */
  readonly round: number;
  /** The data plane's sequence marks the batch covers. */
  readonly coversSeq: { readonly from: bigint; readonly to: bigint };
  /** Slots installed or already present at the destinations. */
  readonly slots: number;
  readonly final: boolean;
  /** Batches merged at the source so far while a destination was slower (flow control). */
  readonly merged: number;
  /**
   * The table entries (pinholes) the batch carried: the source's complete list, sent whole (the
   * snapshot and the final batch carry one). Absent when the batch carried no list (delta rounds).
   */
  readonly tableEntries?: number;
  /** The final batch went with the destination's activation (TransferMode `activate`). */
  readonly activated?: boolean;
}

/**
 * The pre-copy transfers running at each source (by its device API), per migration: a final
 * transfer that freezes waits for the pre-copy one to end, so nothing it still sends lands at a
 * destination after the final batch (an older record over a newer one).
 */
const precopyRunning = new WeakMap<DeviceApi, Map<string, Promise<void>>>();

/** Resolves once the pre-copy transfer of migration `id` at `source` ended (at once if none runs here). */
function precopyEnded(source: DeviceApi, id: string): Promise<void> {
  return precopyRunning.get(source)?.get(id) ?? Promise.resolve();
}

/** Notes a pre-copy transfer of `id` at `source` as running; the returned function notes its end. */
function notePrecopy(source: DeviceApi, id: string): () => void {
  const running = precopyRunning.get(source) ?? new Map<string, Promise<void>>();
  precopyRunning.set(source, running);
  let end: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  running.set(id, ended);
  return () => {
    if (running.get(id) === ended) running.delete(id);
    end();
  };
}

/** What a transfer needs at the source. */
export interface PeerTransferOptions {
  /** The source's device API (its own switch). */
  readonly source: DeviceApi;
  /** A destination's device API by name: in process, or over the migration protocol with this plugin's certificate. */
  readonly peer: (name: string) => DeviceApi;
}

/**
 * Runs a transfer of migration `m` from `o.source` to the request's destinations; emits one
 * progress per acknowledged batch and completes after the last (pre-copy: once the source froze
 * and what waited was sent). Unsubscribing stops sending (a batch in flight still lands).
 */
export function transferState(o: PeerTransferOptions, m: MigrationRef, r: TransferRequest): Observable<TransferProgress> {
  return new Observable<TransferProgress>((sub) => {
    let stopped = false;
    let deltas: Subscription | undefined;
    let round = 0;
    let merged = 0;
    let keyFields: KeyFieldSpec = [];
    let self: string | undefined;
    /** Notes this pre-copy transfer's end (see precopyRunning). */
    const ended = r.mode.kind === 'precopy' ? notePrecopy(o.source, m.migrationId) : undefined;
    /** The batch being sent, while one is. */
    let sending: Promise<unknown> | undefined;

    /**
     * Sends `b` to every destination (its share each), with `activate` by ImportActivate where the
     * destination offers it; resolves with the progress to report.
     */
    const send = async (b: StateBatch, final: boolean, activate = false): Promise<TransferProgress> => {
      const parts = splitBatch(r.plan, keyFields, b, self);
      const to = [...parts.keys()];
      const activating = activate && to.length === 1 && o.peer(to[0] as string).importActivate !== undefined;
      const out = await Promise.allSettled(to.map((d) => {
        const peer = o.peer(d);
        const part = parts.get(d) as StateBatch;
        return activating && peer.importActivate ? peer.importActivate(m, part) : peer.importStaged(m, part);
      }));
      const bad = out.findIndex((x) => x.status === 'rejected');
      if (bad >= 0) throw asDeviceFailure((out[bad] as PromiseRejectedResult).reason, `peer transfer of migration ${m.migrationId} to ${to[bad]}`);
      const slots = out.reduce((n, x) => {
        const v = (x as PromiseFulfilledResult<ImportResult>).value;
        return n + v.installed + v.alreadyPresent;
      }, 0);
      return { round: final ? round : round++, coversSeq: b.coversSeq, slots, final, merged, ...(b.tableEntries ? { tableEntries: b.tableEntries.length } : {}), ...(activating ? { activated: true } : {}) };
    };
    /** Notes the end once the batch in flight, if any, landed (or failed). */
    const noteEnd = (): void => {
      if (sending) void sending.finally(() => ended?.()).catch(() => undefined);
      else ended?.();
    };
    const fail = (e: unknown): void => {
      clearTimeout(overrun);
      noteEnd();
      if (stopped) return;
      stopped = true;
      deltas?.unsubscribe();
      sub.error(asDeviceFailure(e, `peer transfer of migration ${m.migrationId}`));
    };

    // Asked to freeze, the source does so at once (its own description is read meanwhile).
    const freezing = r.mode.kind === 'final' && r.mode.freeze === true ? o.source.freeze(m) : undefined;
    freezing?.catch(() => undefined);
    // Frozen, the VM's traffic is dropped here: not for longer than the pause deadline because a
    // destination stopped answering (field walkthrough 22: 30 s, a pre-copy batch to a silent
    // destination holding the final one back). Past it this source undoes the migration here.
    let step = 'freezing';
    const budget = r.mode.kind === 'final' && r.mode.freeze === true ? r.mode.budgetMs : undefined;
    let overran = false;
    const overrun = budget === undefined ? undefined : setTimeout(() => {
      if (stopped) return;
      overran = true;
      const waited = step;
      void o.source.abort(m).then(
        () => fail(new DeviceApiFailure('DEVICE_UNREACHABLE', `${budget} ms after the freeze (the pause deadline and its grace) ${waited}: this source unfroze itself and undid the migration here (its state stays authoritative); the destinations may hold what reached them`)),
        (e: unknown) => fail(new DeviceApiFailure('DEVICE_UNREACHABLE', `${budget} ms after the freeze (the pause deadline and its grace) ${waited}, and undoing the freeze here failed too: ${(e as Error).message}`)),
      );
    }, budget);
    void (async () => {
      const own = await o.source.capabilities();
      keyFields = own.keyFields;
      self = own.device;
      if (r.mode.kind === 'final') {
        const { sinceSeq, freeze, activate } = r.mode;
        let batch: StateBatch;
        if (freeze) {
          // The freeze ends this migration's pre-copy transfer here; the final batch is read
          // meanwhile and sent once that transfer sent what it held (see precopyRunning).
          await freezing;
          step = 'the pre-copy batch in flight to the destinations had not landed';
          [batch] = await Promise.all([o.source.finalDelta(m, sinceSeq), precopyEnded(o.source, m.migrationId)]);
        } else {
          batch = await o.source.finalDelta(m, sinceSeq);
        }
        step = 'the final batch was on its way to the destinations (they had not answered)';
        // Activated with the batch only when the batch proves complete on its own from where the
        // caller's proof stood (a change log that overflowed starts later: the caller decides).
        const p = await send(batch, true, activate === true && r.plan.destinations.length === 1 && batch.coversSeq.from <= sinceSeq);
        clearTimeout(overrun);
        // Past the deadline the undo is under way (or done): its failure is the answer.
        if (stopped || overran) return;
        sub.next(p);
        sub.complete();
        return;
      }
      // The destinations asked while the snapshot is read: one that refuses this source as a caller
      // fails the transfer at once, not after a snapshot of seconds.
      const [snapshot, asked] = await Promise.all([o.source.exportSnapshot(m), Promise.all(r.plan.destinations.map(async (d) => [d, await o.peer(d).capabilities()] as const))]);
      // The destinations' room, before anything is sent: a claim that cannot be true, or too little room, moves nothing.
      const shares = splitBatch(r.plan, keyFields, snapshot, self);
      const all = new Map<string, DeviceCapabilities>(asked);
      const caps = new Map<string, DeviceCapabilities>([...shares.keys()].map((d) => [d, all.get(d) as DeviceCapabilities]));
      for (const [d, c] of caps) checkCapacityClaim(d, c);
      checkRoom(new Map([...shares].map(([d, b]) => [d, b.slots.length])), (d) => caps.get(d));
      const sendingSnapshot = send(snapshot, false);
      // Never rejects (the failure is the await's below): only when it settled matters here.
      sending = sendingSnapshot.then(() => (sending = undefined), () => (sending = undefined));
      const first = await sendingSnapshot;
      if (stopped) return;
      sub.next(first);
      let waiting: StateBatch | undefined;
      let inFlight = false;
      let frozen = false;
      const keyNames = keyFields.map((k) => k.name);
      const pump = (): void => {
        if (inFlight || stopped) return;
        const b = waiting;
        if (!b) {
          if (frozen) {
            stopped = true;
            ended?.();
            sub.complete();
          }
          return;
        }
        waiting = undefined;
        // A quiet report, after every batch before it was acknowledged: told as progress of
        // nothing, so the controller knows this pull found nothing (sent nowhere).
        if (isQuietBatch(b)) {
          sub.next({ round, coversSeq: b.coversSeq, slots: 0, final: false, merged });
          pump();
          return;
        }
        inFlight = true;
        sending = send(b, false).then((p) => {
          inFlight = false;
          sending = undefined;
          if (stopped) return;
          sub.next(p);
          pump();
        }, fail);
      };
      deltas = o.source.exportDeltas(m, own.quietReports === true ? { reportQuiet: true } : {}).subscribe({
        next: (b) => {
          if (waiting) merged++;
          waiting = waiting ? mergeBatches(keyNames, waiting, b) : b;
          pump();
        },
        error: fail,
        // The source froze (or was aborted): what waits goes out, then the transfer ends.
        complete: () => {
          frozen = true;
          pump();
        },
      });
    })().catch(fail);

    return () => {
      stopped = true;
      clearTimeout(overrun);
      deltas?.unsubscribe();
      // A batch in flight still lands: the end is noted once it did.
      noteEnd();
    };
  });
}

/**
 * The migration group's moves: the controller's own engine over the two switches' device APIs
 * (in process, as `carryover migrate` runs them), step by step so traffic can run while pre-copy
 * does and the source's state can be read at the moment it stops changing. A move either commits
 * or is rolled back with its reason; on purpose (`rollBackAfterActivation`) it is rolled back at
 * the latest point a rollback exists: the destination active, the source frozen.
 */
import { Subject } from 'rxjs';
import { MemoryJournal, MigrationEngine, MigrationMachine, parseInventory, planMigration, proofText, reasonOfError } from '../controller/index.js';
import type { FailureReason, PauseSyncResult, PrecopyRound } from '../controller/index.js';
import type { MigrationSide } from './migration-setup.js';

/** The VM's name in the inventory hw-test writes for its moves. */
const VM_NAME = 'hw-test-vm';

/** What one move did. */
export interface MoveResult {
  /** Slots the snapshot installed (pre-copy's round 0), when it ran. */
  readonly snapshotSlots: number | undefined;
  readonly rounds: readonly PrecopyRound[];
  readonly sync: PauseSyncResult | undefined;
  readonly committed: { readonly deleted: number; readonly skipped: number } | undefined;
  readonly aborted: { readonly reason: FailureReason; readonly detail: string; readonly undoFailed: readonly string[] } | undefined;
}

/** How a move runs. */
export interface MoveOptions {
  /**
   * Runs while pre-copy does (the VM's traffic); pre-copy stops when it resolves. `rounds()` says
   * how many pre-copy rounds have been recorded so far, the snapshot (round 0) included.
   */
  readonly duringPrecopy?: (progress: { readonly rounds: () => Promise<number> }) => Promise<void>;
  /** Runs once pre-copy has stopped and before the freeze (nothing changes after it). */
  readonly beforePause?: () => Promise<void>;
  /** Roll back after activation instead of committing. */
  readonly rollBackAfterActivation?: boolean;
}

/** The host a side's switch serves in the inventory hw-test writes. */
const hostOf = (x: MigrationSide): string => `host-${x.role}`;

/** An inventory of the two switches, the VM on `from`'s host. */
function inventoryText(from: MigrationSide, to: MigrationSide): string {
  const dev = (x: MigrationSide): string => `  ${x.role}: { address: "${x.s.o.target}", deviceId: ${x.s.o.deviceId}, hosts: [${hostOf(x)}] }`;
  return `devices:\n${dev(from)}\n${dev(to)}\nvms:\n  ${VM_NAME}: { address: ${from.s.o.fixture.migrationVm.addr}, host: ${hostOf(from)} }\n`;
}

/** Moves the migration VM from `from` to `to` with the controller's engine; never throws for a failed move. */
export async function moveVm(from: MigrationSide, to: MigrationSide, o: MoveOptions = {}): Promise<MoveResult> {
  const plan = planMigration(parseInventory(inventoryText(from, to), 'hw-test-inventory.yaml'), VM_NAME, hostOf(from), hostOf(to));
  const journal = new MemoryJournal();
  const migrationId = `hw-test-${from.role}-to-${to.role}-${Date.now()}`;
  const machine = await MigrationMachine.plan({ migrationId, vm: VM_NAME, sources: [from.role], destinations: [to.role] }, { journal, now: () => Date.now() });
  const engine = new MigrationEngine({
    plan,
    machine,
    devices: new Map([[from.role, from.api], [to.role, to.api]]),
    // A validation run reports the pause's time; a loaded lab host must not turn it into a failure.
    pauseDeadlineMs: 10_000,
    precopy: { intervalMs: 20, policy: { maxRounds: 1_000, convergedAtSlots: -1 } },
    graceMs: 0,
    logger: from.s.o.logger,
  });
  let rounds: PrecopyRound[] = [];
  let sync: PauseSyncResult | undefined;
  const snapshotSlots = async (): Promise<number | undefined> => {
    for (const e of await journal.load(migrationId)) if (e.type === 'round' && e.round === 0) return e.slots;
    return undefined;
  };
  try {
    await engine.prepare();
    const stop$ = new Subject<void>();
    const precopy = engine.precopy(stop$);
    try {
      await o.duringPrecopy?.({ rounds: async () => (await journal.load(migrationId)).filter((e) => e.type === 'round').length });
    } finally {
      stop$.next();
    }
    rounds = await precopy;
    await o.beforePause?.();
    sync = await engine.pauseSync();
    if (o.rollBackAfterActivation) {
      const undo = await engine.abort('PEER_REJECTED', 'hw-test: rolled back on purpose after activation');
      return { snapshotSlots: await snapshotSlots(), rounds, sync, committed: undefined, aborted: { reason: 'PEER_REJECTED', detail: 'rolled back on purpose after activation', undoFailed: undo.failed } };
    }
  } catch (e) {
    const { reason, detail } = reasonOfError(e);
    const undo = await engine.abort(reason, detail);
    return { snapshotSlots: await snapshotSlots(), rounds, sync, committed: undefined, aborted: { reason, detail, undoFailed: undo.failed } };
  }
  const committed = await engine.commit();
  return { snapshotSlots: await snapshotSlots(), rounds, sync, committed, aborted: undefined };
}

/** A move in one line: rounds and their sizes, the pause, the proof. */
export function describeMove(r: MoveResult): string {
  const snapshot = r.snapshotSlots === undefined ? 'no snapshot' : `snapshot of ${r.snapshotSlots} slots`;
  const rounds = `${snapshot}, ${r.rounds.length} delta round${r.rounds.length === 1 ? '' : 's'}${r.rounds.length > 0 ? ` (slots ${r.rounds.map((x) => x.slots).join(', ')})` : ''}`;
  const sync = r.sync ? `; pause-window sync: ${r.sync.slots} slots in ${r.sync.elapsedMs.toFixed(1)} ms (measured here, not a benchmark)${proofText(r.sync.proofs, r.sync.slots)}` : '';
  const end = r.committed ? `; committed, ${r.committed.deleted} slots deleted at the source` : r.aborted ? `; rolled back: ${r.aborted.reason}: ${r.aborted.detail}${r.aborted.undoFailed.length > 0 ? ` (undo failed at ${r.aborted.undoFailed.join(', ')})` : ''}` : '';
  return `${rounds}${sync}${end}`;
}

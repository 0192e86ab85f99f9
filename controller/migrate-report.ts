/**
 * The report of `carryover migrate`, for people (migrateReportLines) and as one JSON object
 * (migrateReportJson): the outcome's headline, translations, pre-copy, the pause, cleanup, QEMU's
 * downtime and what the inventory needs next.
 */
import { proofText } from './engine/final-proofs.js';
import type { MigrationOutcome } from './migrate/execute-migration.js';
import type { MigrationPlan } from './plan/plan-migration.js';
import { planJson } from './plan/plan-json.js';

/** The human-readable report of `carryover migrate`: outcome, translations, pre-copy, pause, cleanup (and, given the plan, the inventory's next step). */
export function migrateReportLines(outcome: MigrationOutcome, plan?: MigrationPlan): string[] {
  const r = outcome.run;
  return [
    `migration ${outcome.migrationId}: ${headline(outcome)}`,
    ...outcome.translations.map((t) => `  translated: ${t}`),
    // Nothing to say of a pre-copy that never started (refused at negotiation or prepare).
    ...(outcome.rounds.length > 0 ? [`  pre-copy: snapshot ${outcome.rounds[0] ?? 0} slots (one per flow), ${Math.max(0, outcome.rounds.length - 1)} delta rounds${outcome.rounds.length > 1 ? ` (slots each: ${outcome.rounds.slice(1).join(', ')})` : ''}${precopyEndText(outcome.precopyEnd)}`] : []),
    ...((outcome.tableEntries ?? 0) > 0 ? [`  table entries: ${outcome.tableEntries ?? 0} installed at the destinations (pinholes, with their remaining lifetime and direct counters)`] : []),
    // With something lost the final delta was not all installed: no proof is claimed (walkthrough 21: "0 slots … proven" beside "LOST … unknown").
    ...(r.sync ? [`  pause-window sync: ${r.sync.elapsedMs.toFixed(1)} ms, ${r.sync.lost ? `final delta not complete; LOST: ${r.sync.lost.detail}` : `${r.sync.slots} slots in the final delta${proofText(r.sync.proofs, r.sync.slots)}`}`] : []),
    ...(r.committed ? [`  sources cleaned: ${r.committed.deleted} slots deleted, ${r.committed.skipped} skipped (taken by another flow)`] : []),
    // 1:N: flows go where their paths hit, a VM's counters cannot be split by flow.
    ...(plan && !r.aborted && plan.edgeDestinations.length > 1 ? [`  counters: the VM's per-VM counts were added at ${plan.destinations[0]?.name ?? '?'} (one destination: they are not split by flow), its pinholes' direct counters there too`] : []),
    ...(outcome.crossDomain ? [`  domain ${outcome.crossDomain.peer}: destinations ${outcome.crossDomain.destinations.join(', ')}; federation calls inside the pause: ${outcome.crossDomain.callsInPause.join(', ') || 'none'}`] : []),
    ...(outcome.qemu?.outcome ? [`  QEMU: migration ${outcome.qemu.outcome} — the VM runs at the ${outcome.qemu.outcome === 'completed' ? 'destination' : 'source'}`] : []),
    ...(outcome.qemu ? [`  QEMU downtime: ${qemuDowntime(outcome.qemu)}`] : []),
    ...(r.aborted ? [`  reason: ${r.aborted.reason}: ${r.aborted.detail}`] : []),
    ...(r.unfinished ? [`  reason: ${r.unfinished.reason}: ${r.unfinished.detail}`] : []),
    // carryover never edits the operator's inventory; a stale host would aim the next move at a switch the VM left.
    // Across domains the host is the peer's (walkthrough 21: "set vms.vm-7.host to host-b", a host dc-a does not have).
    ...(plan && !r.aborted ? [plan.toDomain ? `  inventory: ${plan.vm.name} runs on ${plan.toHost} in domain ${plan.toDomain} now; remove it from this inventory's vms, and add it to ${plan.toDomain}'s (host ${plan.toHost}) for a migration from there` : `  inventory: ${plan.vm.name} runs on ${plan.toHost} now; set vms.${plan.vm.name}.host to ${plan.toHost} before its next migration`] : []),
  ];
}

/** How pre-copy ended, after its rounds (walkthrough 23: a run cut at the round limit read like one that converged). */
function precopyEndText(e: MigrationOutcome['precopyEnd']): string {
  if (!e) return '';
  if (e.by !== 'round-limit') return e.by === 'paused' ? '; ended when the VM paused' : '; converged';
  return `; not converged: stopped at the ${e.maxRounds}-round limit with ${e.lastSlots} slots still changing per round (the pause carried the rest)`;
}

/** QEMU's downtime and carryover's hold; a migration QEMU cancelled or failed reports none. */
function qemuDowntime(q: NonNullable<MigrationOutcome['qemu']>): string {
  if (q.outcome === 'cancelled' || q.outcome === 'failed') return `none reported (QEMU's migration ${q.outcome}; the VM ran on at the source${q.heldMs === undefined ? '' : `, after carryover held it ${q.heldMs.toFixed(1)} ms in pre-switchover`})`;
  return `${q.downtimeMs ?? '?'} ms, of which carryover held the VM ${q.heldMs?.toFixed(1) ?? '?'} ms${q.guestDowntimeMs === undefined ? '' : `; the VM stopped at the source to running at the destination: ${q.guestDowntimeMs.toFixed(1)} ms`}`;
}

/**
 * The report's first words. They follow where the VM ended: "every device as before" only when
 * QEMU did not complete (a rollback with the VM at the destination says that instead).
 */
function headline(outcome: MigrationOutcome): string {
  const r = outcome.run;
  if (r.unfinished?.vmAt === 'unknown') return `NOT FINISHED (${r.unfinished.reason}) — QEMU was released, then its monitor was lost: where the VM runs is unknown, so nothing was rolled back (reason below)`;
  if (r.unfinished) return `NOT FINISHED (${r.unfinished.reason}) — the VM runs at the destination, but activating or committing its state there failed (reason below); its state must follow it there, not roll back: once the cause is fixed, run carryover recover (it says when it needs --vm-at destination) to finish it`;
  if (!r.aborted) return 'COMMITTED';
  if (r.aborted.undoFailed?.length) {
    const why = r.aborted.undoFailed.map((n) => `${n}: ${r.aborted?.undoErrors?.[n] ?? 'no answer'}`).join('; ');
    // Walkthrough 22: an operator could not tell "staged there" from "live at two switches".
    const live = r.aborted.mayBeActive ?? [];
    const liveNote = live.length === 0 ? '' : `; ${live.join(', ')} ${live.length > 1 ? 'were' : 'was'} in the pause and may be ACTIVE (the VM's flows and counters live there as well as at the source) until then`;
    return `ABORTED (${r.aborted.reason}) — ROLLBACK INCOMPLETE at ${r.aborted.undoFailed.join(', ')} (${why}): run carryover recover once ${r.aborted.undoFailed.length > 1 ? 'they answer' : 'it answers'} this controller again${r.aborted.journalError !== undefined ? ` and the journal takes records again (it refused: ${r.aborted.journalError})` : ''}${liveNote}`;
  }
  if (r.aborted.journalError !== undefined) return `ABORTED (${r.aborted.reason}) — rolled back: every device as before the migration, the VM's state where it was; but the journal refused to record it (${r.aborted.journalError}): once it takes records again (free its disk), run carryover recover — it finds nothing left to undo and closes the migration`;
  if (outcome.qemu?.outcome === 'completed') return `ABORTED (${r.aborted.reason}) — rolled back although QEMU completed: the VM runs at the destination without its network state`;
  return `ABORTED (${r.aborted.reason}) — rolled back: every device as before the migration, the VM's state where it was`;
}

/** The `--json` report of `carryover migrate`. */
export function migrateReportJson(p: MigrationPlan, o: MigrationOutcome): Record<string, unknown> {
  const r = o.run;
  return {
    migrationId: o.migrationId,
    plan: planJson(p),
    outcome: r.aborted ? 'aborted' : r.unfinished ? 'unfinished' : 'committed',
    reason: r.aborted?.reason ?? r.unfinished?.reason ?? null,
    detail: r.aborted?.detail ?? r.unfinished?.detail ?? null,
    // Devices whose rollback failed ([] when it completed; null when not aborted).
    undoFailed: r.aborted ? (r.aborted.undoFailed ?? []) : null,
    // What each of those answered.
    ...(r.aborted?.undoErrors ? { undoErrors: r.aborted.undoErrors } : {}),
    // Why the journal could not record the rollback (done at the devices all the same).
    ...(r.aborted?.journalError !== undefined ? { journalError: r.aborted.journalError } : {}),
    // Of those, destinations the pause had reached: possibly active, the VM's state live there too.
    ...(r.aborted?.mayBeActive ? { mayBeActive: r.aborted.mayBeActive } : {}),
    transfer: o.transfer ?? 'controller',
    translations: o.translations,
    snapshotSlots: o.rounds[0] ?? 0,
    rounds: Math.max(0, o.rounds.length - 1),
    deltaSizes: o.rounds.slice(1),
    // 'paused' (the trigger), 'converged', or 'round-limit' (with the round limit and the last round's slots); null when pre-copy never ran.
    precopyEnd: o.precopyEnd ?? null,
    tableEntries: o.tableEntries ?? null,
    pauseSyncMs: r.sync ? Math.round(r.sync.elapsedMs * 100) / 100 : null,
    finalDeltaSlots: r.sync?.slots ?? null,
    finalDeltaProofs: r.sync?.proofs ?? null,
    lost: r.sync?.lost ?? null,
    sourceDeleted: r.committed?.deleted ?? null,
    qemu: o.qemu ?? null,
    crossDomain: o.crossDomain ?? null,
  };
}


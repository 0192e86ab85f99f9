/**
 * What `carryover migrate` does once the request is valid: connect to the plan's devices, record
 * the migration in the inventory's journal, run the engine — on its own (`manual`: pre-copy until
 * the convergence policy ends it) or driven by QEMU's phases (`qemu:` monitor socket: pre-copy
 * while QEMU copies memory, the sync while QEMU holds the VM in pre-switchover) — and report.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { connectPlanDevices } from '../devices/connect-plan-devices.js';
import { engineAsPhaseHandler } from '../engine/engine-phase-handler.js';
import type { EngineRun } from '../engine/engine-phase-handler.js';
import { MigrationEngine } from '../engine/migration-engine.js';
import type { DeadlinePolicy } from '../engine/migration-engine.js';
import { reasonOfError, runMigration } from '../engine/run-migration.js';
import { FileJournal } from '../journal/file-journal.js';
import type { InventoryController, InventoryDevice } from '../inventory/inventory.js';
import type { MigrationJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { QemuTrigger } from '../trigger/qemu-trigger.js';

/** How the migration is started and paced. */
export type MigrateTrigger =
  | { readonly kind: 'manual' }
  /** QEMU's monitor of the source VM; `migrateUri` starts the migration, else carryover waits for one. */
  | { readonly kind: 'qemu'; readonly source: string; readonly destination?: string; readonly migrateUri?: string };

/** Everything a migration run needs. */
export interface ExecuteMigrationOptions {
  readonly plan: MigrationPlan;
  readonly trigger: MigrateTrigger;
  readonly migrationId?: string;
  readonly journal?: MigrationJournal;
  readonly journalDir: string;
  readonly defaultP4info: string;
  /** This controller's domain and identity, for devices behind plugin daemons (inventory `domain`, `controller`). */
  readonly domain?: string;
  readonly controller?: InventoryController;
  readonly pauseDeadlineMs: number;
  readonly onDeadline: DeadlinePolicy;
  readonly progress: (line: string) => void;
  readonly logger?: Logger;
}

/** The outcome, for the report. */
export interface MigrationOutcome {
  readonly migrationId: string;
  readonly run: EngineRun;
  /** Slots per pre-copy round, the snapshot first. */
  readonly rounds: readonly number[];
  readonly qemu?: { readonly downtimeMs: number | undefined; readonly heldMs: number | undefined };
}

/** How a device is reached, for progress lines. */
export function reachedAt(d: InventoryDevice): string {
  return d.plugin ? `plugin daemon at ${d.plugin.address}` : (d.address ?? '?');
}

/** Runs one migration; resolves with its outcome (failed migrations included: `run.aborted`). */
export async function executeMigration(o: ExecuteMigrationOptions): Promise<MigrationOutcome> {
  const logger = o.logger ?? silentLogger;
  const migrationId = o.migrationId ?? `${o.plan.vm.name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const devices = [...o.plan.sources, ...o.plan.destinations];
  o.progress(`connecting to ${devices.map((d) => `${d.name} (${reachedAt(d)})`).join(', ')}`);
  const connected = await connectPlanDevices(devices, {
    defaultP4info: o.defaultP4info,
    domain: o.domain ?? 'default',
    controller: o.controller,
    scope: { sources: o.plan.sources.map((d) => d.name), destinations: o.plan.destinations.map((d) => d.name) },
    logger,
  });
  try {
    const machine = await MigrationMachine.plan(
      { migrationId, vm: o.plan.vm.name, sources: o.plan.sources.map((d) => d.name), destinations: o.plan.destinations.map((d) => d.name) },
      { journal: o.journal ?? new FileJournal(o.journalDir, logger), now: () => Date.now(), logger },
    );
    const rounds: number[] = [];
    let moved = 0;
    const sub = machine.states$.subscribe((s) => {
      if (s.rounds > rounds.length) {
        rounds.push(s.moved.slots - moved);
        moved = s.moved.slots;
        const n = rounds[rounds.length - 1] ?? 0;
        if (rounds.length === 1) o.progress(`pre-copy: snapshot staged, ${n} slots`);
        else if (n > 0) o.progress(`pre-copy round ${rounds.length - 1}: ${n} slots`);
      }
    });
    const phases = machine.phases$.subscribe((p) => o.progress(`phase ${p.phase}`));
    const engine = new MigrationEngine({ plan: o.plan, machine, devices: connected.apis, pauseDeadlineMs: o.pauseDeadlineMs, onDeadline: o.onDeadline, logger });
    try {
      if (o.trigger.kind === 'manual') return { migrationId, run: await runMigration(engine, { logger }), rounds };
      // Negotiation before QEMU starts copying: a refusal leaves QEMU untouched.
      const h = engineAsPhaseHandler(engine, logger);
      try {
        await engine.prepare();
      } catch (e) {
        const { reason, detail } = reasonOfError(e);
        await engine.abort(reason, detail);
        return { migrationId, run: { rounds: [], sync: undefined, committed: undefined, aborted: { reason, detail } }, rounds };
      }
      const trigger = await QemuTrigger.attach({
        source: o.trigger.source,
        ...(o.trigger.destination ? { destination: o.trigger.destination } : {}),
        handler: h.handler,
        pauseDeadlineMs: o.pauseDeadlineMs,
        logger,
      });
      try {
        if (o.trigger.migrateUri) await trigger.startMigration(o.trigger.migrateUri);
        else o.progress(`waiting for a migration of the VM behind ${o.trigger.source} (start it with QEMU's migrate command or libvirt)`);
        const run = await h.done;
        const report = await trigger.finished.catch(() => undefined);
        return { migrationId, run, rounds, qemu: { downtimeMs: report?.qemuDowntimeMs, heldMs: report?.pause?.heldMs } };
      } finally {
        await trigger.close();
      }
    } finally {
      sub.unsubscribe();
      phases.unsubscribe();
    }
  } finally {
    await connected.stop();
  }
}

/**
 * `carryover migrate`: validates the inventory and the request, shows the plan, and (without
 * `--plan`) moves the VM's state: pre-copy, pause-window sync, activation, commit — or rollback
 * with the reason. Progress goes to stderr, the report to stdout (`--json`: one object).
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControllerError } from './errors.js';
import type { ControllerErrorCode } from './errors.js';
import { executeMigration, MigrationInterrupt, reachedAt } from './migrate/execute-migration.js';
import type { InterruptOutcome, MigrateTrigger, MigrationOutcome } from './migrate/execute-migration.js';
import { loadInventory } from './inventory/load-inventory.js';
import { planMigration, planToPeer } from './plan/plan-migration.js';
import { checkPlacementFields } from './plan/placement-fields.js';
import { checkJournalDir } from './journal/journal-dir.js';
import type { MigrationPlan } from './plan/plan-migration.js';
import { planJson } from './plan/plan-json.js';
import { runCheck } from './migrate/check-command.js';
import type { Inventory, InventoryDevice, InventoryPeer } from './inventory/inventory.js';
import { claimVm, describeClaim, readClaim } from './journal/vm-claim.js';
import { unfinishedOf } from './migrate/migration-blockers.js';
import { parseQmpAddress } from './qmp/index.js';
import { parseFlags } from '../plugin/cli-flags.js';
import { migrateReportJson, migrateReportLines } from './migrate-report.js';

/** The report's renderers, where callers have always found them. */
export { migrateReportJson, migrateReportLines };

/** Where the command writes. */
export interface MigrateCommandIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

/** The P4Info of p4/stateful_edge.p4 (shipped beside the code, in the sources and in build/). */
const DEFAULT_P4INFO = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'p4', 'stateful_edge.p4info.txtpb');

const HELP = `usage: carryover migrate --config SITE.yaml --vm NAME --from HOST --to HOST [--to-domain DOMAIN] [--trigger T] [--plan | --check] [--json]

Migrates one VM's network state from the edges in front of HOST (--from) to those in front of
HOST (--to), as the inventory (--config) describes them — or, with --to-domain, to host --to of a
peer domain, whose controller plans and drives its own devices.

options:
  --config FILE   the inventory (YAML): devices, hosts, placement functions, VMs
  --vm NAME       the VM, as named under 'vms'
  --from HOST     where the VM runs now
  --to HOST       where it is going
  --to-domain D   --to is a host of peer domain D (listed under 'peers', with an address): this
                  controller proposes the migration to D's, they agree a ticket both sign, D stages
                  and activates its destinations; only the commit crosses inside the pause
  --trigger KIND  manual (default): pre-copy until the changes converge, then the pause-window sync
                  qemu:/path/to/qmp.sock: follow QEMU's migration of the VM (source monitor);
                  the sync runs while QEMU holds the VM in pre-switchover
  --qemu-destination PATH   the destination QEMU's monitor: checks the VM runs there after, and
                            reports the VM's own downtime (its STOP at the source to its RESUME there)
  --migrate-uri URI         start QEMU's migration to URI (default: wait for the operator's)
  --transfer T              controller (default): the state passes through this controller;
                            peer-to-peer: each source's plugin sends it straight to the destinations'
                            (daemons must trust each other as callers); this controller keeps the
                            phases and the completeness proof
  --pause-deadline-ms N     pause-window budget (default 50)
  --on-deadline P           abort (default: roll back) | continue (activate, report what was lost)
  --undo-retry-ms N         how long a rollback retries a device that does not answer (a plugin
                            being restarted) before it reports it incomplete (default 30000)
  --ignore-destination-flows  migrate even when no source holds a flow of the VM while a
                            destination holds some and no migration marked the VM as having
                            left it — refused otherwise (PEER_REJECTED): the VM seems to run
                            there already, and staging would drop its traffic
  --migration-id ID         default: VM name, time and a random suffix
  --plan          validate and show which devices take part and the topology; change nothing
  --check         ask every device, as the migration would reach it, whether a migration started
                  now would pass: reachable, schemas, the VM mapped (and running at the sources),
                  none of its migrations under way, room; with --trigger qemu:, QEMU's state
                  too. Nothing is prepared, staged or frozen. Exit 0 ready, 1 not ready
  --scan          with --check: wait until each plugin in this process has scanned its switch, so
                  the VM's flows are counted everywhere (room, the VM already at the destination);
                  seconds on a large switch. Daemons count from their own index
  --json          the plan (with --plan) or the report as one JSON object
  -h, --help      this help

Devices are reached over P4Runtime as the inventory says (address, device id, election id, TLS),
each with an edge plugin in this process — or, for a device whose entry names its plugin daemon
(plugin: { address }), over the migration protocol with the inventory's controller TLS and
tickets signed with its signing key under its domain. The journal goes to the inventory's 'journal' directory.
Exit status: 0 committed, 1 the migration failed and was rolled back, 2 bad request.`;

/** Runs `carryover migrate` with `argv`; resolves with the exit code. */
export async function runMigrateCommand(argv: string[], io: MigrateCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseFlags({
      args: argv,
      options: {
        config: { type: 'string' }, vm: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'to-domain': { type: 'string' }, trigger: { type: 'string' },
        'qemu-destination': { type: 'string' }, 'migrate-uri': { type: 'string' }, transfer: { type: 'string' }, 'pause-deadline-ms': { type: 'string' }, 'on-deadline': { type: 'string' }, 'undo-retry-ms': { type: 'string' }, 'migration-id': { type: 'string' },
        'ignore-destination-flows': { type: 'boolean' }, scan: { type: 'boolean' }, plan: { type: 'boolean' }, check: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`carryover migrate: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (v['help']) {
    io.stdout(HELP);
    return 0;
  }
  // --json promises one object on stdout: a refused request says so there too (exit 2).
  const planned: { plan?: MigrationPlan } = {};
  const refuse = (message: string, reason: ControllerErrorCode = 'BAD_CONFIG'): number => {
    io.stderr(message);
    if (v['json']) io.stdout(JSON.stringify({ migrationId: v['migration-id'] ?? null, plan: planned.plan ? planJson(planned.plan) : null, outcome: 'refused', reason, detail: message.replace(/^carryover migrate: /, '').split('\n\n')[0] }));
    return 2;
  };
  const missing = ['config', 'vm', 'from', 'to'].filter((k) => typeof v[k] !== 'string');
  if (missing.length > 0) {
    return refuse(`carryover migrate: missing ${missing.map((k) => `--${k}`).join(', ')}\n\n${HELP}`);
  }
  const triggerArg = typeof v['trigger'] === 'string' ? v['trigger'] : 'manual';
  if (triggerArg !== 'manual' && !/^qemu:.+/.test(triggerArg)) {
    return refuse(`carryover migrate: --trigger ${triggerArg}: expected manual or qemu:/path/to/qmp.sock`);
  }
  const deadlineArg = v['pause-deadline-ms'];
  const pauseDeadlineMs = deadlineArg === undefined ? 50 : Number(deadlineArg);
  if (!Number.isInteger(pauseDeadlineMs) || pauseDeadlineMs < 1 || pauseDeadlineMs > 600_000) {
    return refuse(`carryover migrate: --pause-deadline-ms ${String(deadlineArg)}: expected an integer 1..600000 (milliseconds)`);
  }
  const undoRetryArg = v['undo-retry-ms'];
  const undoRetryMs = undoRetryArg === undefined ? undefined : Number(undoRetryArg);
  if (undoRetryMs !== undefined && (!Number.isInteger(undoRetryMs) || undoRetryMs < 0 || undoRetryMs > 600_000)) {
    return refuse(`carryover migrate: --undo-retry-ms ${String(undoRetryArg)}: expected an integer 0..600000 (milliseconds)`);
  }
  const onDeadline = v['on-deadline'] ?? 'abort';
  if (onDeadline !== 'abort' && onDeadline !== 'continue') {
    return refuse(`carryover migrate: --on-deadline ${String(onDeadline)}: expected abort or continue`);
  }
  const transferArg = v['transfer'] ?? 'controller';
  if (transferArg !== 'controller' && transferArg !== 'peer-to-peer') {
    return refuse(`carryover migrate: --transfer ${String(transferArg)}: expected controller or peer-to-peer`);
  }
  if (v['scan'] && !v['check']) {
    return refuse('carryover migrate: --scan belongs to --check (it waits for each in-process plugin\'s scan of its switch so the check can count the VM\'s flows); a migration scans as it needs');
  }
  if (triggerArg === 'manual' && (v['qemu-destination'] !== undefined || v['migrate-uri'] !== undefined)) {
    return refuse('carryover migrate: --qemu-destination and --migrate-uri need --trigger qemu:/path/to/qmp.sock');
  }
  const trigger: MigrateTrigger =
    triggerArg === 'manual'
      ? { kind: 'manual' }
      : {
          kind: 'qemu',
          source: triggerArg.slice('qemu:'.length),
          ...(typeof v['qemu-destination'] === 'string' ? { destination: v['qemu-destination'] } : {}),
          ...(typeof v['migrate-uri'] === 'string' ? { migrateUri: v['migrate-uri'] } : {}),
        };
  for (const [flag, addr] of [['--trigger qemu:', trigger.kind === 'qemu' ? trigger.source : undefined], ['--qemu-destination ', trigger.kind === 'qemu' ? trigger.destination : undefined]] as const) {
    const problem = addr === undefined ? undefined : qmpSocketProblem(addr);
    if (problem !== undefined) {
      return refuse(`carryover migrate: ${flag}${String(addr)}: ${problem}`);
    }
  }
  let plan: MigrationPlan;
  let inv: Inventory;
  try {
    inv = loadInventory(v['config'] as string);
    const toDomain = v['to-domain'];
    plan = typeof toDomain === 'string' ? planToPeer(inv, v['vm'] as string, v['from'] as string, toDomain, v['to'] as string) : planMigration(inv, v['vm'] as string, v['from'] as string, v['to'] as string);
    // Before --plan, --check and the run: the migration would find it only after PREPARED.
    checkPlacementFields(inv, plan, DEFAULT_P4INFO);
    // Before the journal is read or claimed: its raw fs errors name neither it nor the field.
    checkJournalDir(inv);
  } catch (e) {
    const err = e instanceof ControllerError ? e : ControllerError.from(e);
    return refuse(`carryover migrate: ${err.message}`, err.code);
  }
  planned.plan = plan;
  // Peer to peer: the sources must reach the destinations the way the controller does.
  const devices = [...plan.sources, ...plan.destinations];
  if (transferArg === 'peer-to-peer' && !plan.toDomain && devices.some((d) => d.plugin) && devices.some((d) => !d.plugin)) {
    return refuse(`carryover migrate: --transfer peer-to-peer needs every device reached the same way: ${devices.filter((d) => d.plugin).map((d) => d.name).join(', ')} through plugin daemons, ${devices.filter((d) => !d.plugin).map((d) => d.name).join(', ')} in process; give them all a plugin daemon, or use --transfer controller`);
  }
  // A migration of the VM running now (another carryover process) is not one left in flight.
  const held = readClaim(inv.journal, plan.vm.name);
  const running = held && held.live !== false ? describeClaim(plan.vm.name, held) : undefined;
  // A migration left in flight refuses the plan as it would the run.
  const left = running !== undefined ? {} : await unfinishedOf(inv, plan.vm.name, [...plan.sources, ...plan.destinations].map((d) => d.name));
  const busy = running ?? left.refuse;
  // --check reports it with everything else it finds (NOT READY, exit 1; walkthrough 21: exit 2, no report).
  if (v['check']) return runCheck({ plan, inventory: inv, defaultP4info: DEFAULT_P4INFO, json: v['json'] === true, stdout: io.stdout, trigger, ignoreDestinationFlows: v['ignore-destination-flows'] === true, awaitScan: v['scan'] === true, transfer: transferArg, ...(busy !== undefined ? { busy } : {}) });
  if (running !== undefined) return refuse(`carryover migrate: ${running}`, 'VM_BUSY');
  if (left.refuse !== undefined) {
    return refuse(`carryover migrate: VM_BUSY: ${left.refuse}`, 'VM_BUSY');
  }
  if (v['plan']) {
    if (v['json']) io.stdout(JSON.stringify(planJson(plan)));
    else for (const l of planLines(plan)) io.stdout(l);
    return 0;
  }
  for (const l of planLines(plan)) io.stderr(l);
  if (left.warn !== undefined) io.stderr(`migrate: warning: ${left.warn}`);
  let release: () => void;
  try {
    release = claimVm(inv.journal, plan.vm.name, `migrate${typeof v['migration-id'] === 'string' ? ` ${v['migration-id']}` : ''}`);
  } catch (e) {
    // A journal directory that cannot be created (found only by trying, e.g. under /proc) names the inventory too.
    const where = e instanceof ControllerError && e.code === 'BAD_CONFIG' ? `${inv.source}: ` : '';
    io.stderr(`carryover migrate: ${where}${(e as Error).message}`);
    return 2;
  }
  let outcome: MigrationOutcome;
  // Ctrl-C (or SIGTERM) stops at once; the journal has every step so far, and recover finishes
  // from it. Following QEMU, its migration is settled first: left running, it would hold the VM
  // stopped in pre-switchover for a controller that is gone.
  const interrupt = new MigrationInterrupt();
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) process.exit(code); // a second Ctrl-C does not wait for QEMU
    stopping = interrupt.interrupt(INTERRUPT_QEMU_TIMEOUT_MS).then(
      (r) => interruptedLines(r, String(v['config']), trigger),
      (e: unknown) => interruptedLines({ qemu: 'failed', action: 'cancel', detail: (e as Error).message }, String(v['config']), trigger),
    ).then((line) => {
      io.stderr(`carryover migrate: interrupted${signal === 'SIGTERM' ? ' (SIGTERM)' : ''}; ${line}`);
      // --json promises one object on stdout: a script learns the id and what to run next (walkthrough 23).
      if (v['json']) io.stdout(JSON.stringify({ migrationId: interrupt.migrationId ?? v['migration-id'] ?? null, plan: planJson(plan), outcome: 'interrupted', signal, next: line }));
      process.exit(code);
    });
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    outcome = await executeMigration({
      plan,
      trigger,
      ...(typeof v['migration-id'] === 'string' ? { migrationId: v['migration-id'] } : {}),
      journalDir: inv.journal,
      transfer: transferArg,
      domain: inv.domain,
      ...(inv.controller ? { controller: inv.controller } : {}),
      ...(plan.toDomain && inv.federation ? { crossDomain: { peer: inv.peers.get(plan.toDomain) as InventoryPeer, federation: inv.federation } } : {}),
      defaultP4info: DEFAULT_P4INFO,
      pauseDeadlineMs,
      onDeadline,
      ...(undoRetryMs !== undefined ? { undoRetryMs } : {}),
      ...(v['ignore-destination-flows'] ? { ignoreDestinationFlows: true } : {}),
      progress: (l) => io.stderr(`migrate: ${l}`),
      interrupt,
    });
  } catch (e) {
    const err = e instanceof ControllerError ? e : ControllerError.from(e);
    io.stderr(`carryover migrate: ${err.code}: ${err.message} (nothing was changed on any device)`);
    // --json promises one object on stdout: a migration that never started says so there too.
    if (v['json']) io.stdout(JSON.stringify({ migrationId: v['migration-id'] ?? null, plan: planJson(plan), outcome: 'not-started', reason: err.code, detail: err.message }));
    return err.code === 'BAD_CONFIG' ? 2 : 1;
  } finally {
    release();
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
    // The migration may end (QEMU cancelled) before the interrupt has said so and exited.
    if (stopping) await stopping;
  }
  const r = outcome.run;
  if (v['json']) io.stdout(JSON.stringify(migrateReportJson(plan, outcome)));
  else for (const l of migrateReportLines(outcome, plan)) io.stdout(l);
  return r.aborted || r.unfinished ? 1 : 0;
}

/** How long Ctrl-C waits for QEMU to confirm the cancel (or release) before exiting anyway. */
const INTERRUPT_QEMU_TIMEOUT_MS = 3_000;

/** What an interrupted migration left, and the recover command that finishes it. */
function interruptedLines(r: InterruptOutcome, config: string, trigger: MigrateTrigger): string {
  const switches = 'the switches keep what the migration did so far (a frozen source drops the VM\'s traffic)';
  if (trigger.kind !== 'qemu') return `${switches} — run 'carryover recover --config ${config}' now to roll it back or finish it`;
  // With the monitor, recover asks QEMU where the VM runs, and cancels or releases what is left.
  const recover = `carryover recover --config ${config} --trigger qemu:${trigger.source}`;
  switch (r.qemu) {
    case 'none':
    case 'not-started':
      return `QEMU's migration was not started; ${switches} — run '${recover}' now to roll it back`;
    case 'cancelled':
      return `QEMU's migration was cancelled: the VM keeps running at the source; ${switches} — run '${recover}' now to roll it back`;
    case 'released':
      return `the destinations were activated, so QEMU's migration was not cancelled: QEMU was released to switch the VM over to the destination — run '${recover}' now to finish the migration (it asks QEMU where the VM runs)`;
    case 'ended':
      return `QEMU's migration had already ended ('${r.status}'); ${switches} — run '${recover}' now to roll it back or finish it`;
    case 'failed':
      return r.action === 'cancel'
        ? `QEMU's migration could NOT be cancelled (${r.detail}): QEMU may go on to hold the VM stopped in pre-switchover — run '${recover}' now: it rolls the switches back and cancels QEMU's migration`
        : `the destinations were activated but QEMU could NOT be released (${r.detail}): it may hold the VM stopped in pre-switchover — run '${recover}' now: it releases QEMU and finishes the migration`;
  }
}

function deviceLine(d: InventoryDevice): string {
  if (d.address === undefined && !d.plugin) return `${d.name} (peer domain: its controller plans its destinations)`;
  return d.plugin ? `${d.name} (${reachedAt(d)})` : `${d.name} (${d.address ?? '?'}, device ${d.deviceId ?? '?'})`;
}

function planLines(p: MigrationPlan): string[] {
  return [
    `plan: VM ${p.vm.name} (${p.vm.address}) from ${p.fromHost} to ${p.toHost}${p.toDomain ? ` in domain ${p.toDomain}` : ''}, topology ${p.topology}`,
    `  sources:      ${p.sources.map(deviceLine).join(', ')}`,
    `  destinations: ${p.destinations.map(deviceLine).join(', ')}`,
    ...(p.placement ? [`  placement:    ${p.placement.name}: ${p.placement.algorithm}(${p.placement.fields.join(', ')}) over ${p.placement.devices.join(', ')}`] : []),
    ...[...p.counterparts].map(([s, d]) => `  path:         ${s} → ${d} (counterparts)`),
  ];
}

/** Why a QEMU monitor address that names a Unix socket cannot be one (missing, or not a socket); undefined when it may be (TCP addresses are tried at connect). */
function qmpSocketProblem(address: string): string | undefined {
  let endpoint;
  try {
    endpoint = parseQmpAddress(address);
  } catch (e) {
    return (e as Error).message;
  }
  if (endpoint.kind !== 'unix') return undefined;
  const st = statSync(endpoint.path, { throwIfNoEntry: false });
  if (st?.isSocket()) return undefined;
  return `${st ? 'is not a socket' : 'no such socket'}; give the path QEMU listens on (-qmp unix:PATH,server=on,wait=off); nothing was changed`;
}


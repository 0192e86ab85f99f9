/**
 * `carryover migrate`: validates the inventory and the request and shows the plan (`--plan`).
 * Moving state is the migration engine's job, not built yet: without `--plan` the command says
 * so after validating everything, and changes nothing.
 */
import { parseArgs } from 'node:util';
import { ControllerError } from './errors.js';
import { loadInventory } from './inventory/load-inventory.js';
import { planMigration } from './plan/plan-migration.js';
import type { MigrationPlan } from './plan/plan-migration.js';

/** Where the command writes. */
export interface MigrateCommandIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

const HELP = `usage: carryover migrate --config SITE.yaml --vm NAME --from HOST --to HOST [--plan] [--json]

Migrates one VM's network state from the edges in front of HOST (--from) to those in front of
HOST (--to), as the inventory (--config) describes them.

options:
  --config FILE   the inventory (YAML): devices, hosts, placement functions, VMs
  --vm NAME       the VM, as named under 'vms'
  --from HOST     where the VM runs now
  --to HOST       where it is going
  --trigger KIND  manual (default) | qemu:/path/to/qmp.sock  [engine not built yet]
  --plan          validate and show which devices take part and the topology; change nothing
  --json          the plan as one JSON object
  -h, --help      this help`;

const planJson = (p: MigrationPlan): Record<string, unknown> => ({
  vm: p.vm.name,
  address: p.vm.address,
  from: p.fromHost,
  to: p.toHost,
  topology: p.topology,
  sources: p.sources.map((d) => ({ name: d.name, address: d.address, deviceId: d.deviceId.toString() })),
  destinations: p.destinations.map((d) => ({ name: d.name, address: d.address, deviceId: d.deviceId.toString() })),
  placement: p.placement ? { name: p.placement.name, algorithm: p.placement.algorithm, fields: p.placement.fields, devices: p.placement.devices } : null,
});

/** Runs `carryover migrate` with `argv`; resolves with the exit code. */
export async function runMigrateCommand(argv: string[], io: MigrateCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, vm: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, trigger: { type: 'string' }, plan: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
  const missing = ['config', 'vm', 'from', 'to'].filter((k) => typeof v[k] !== 'string');
  if (missing.length > 0) {
    io.stderr(`carryover migrate: missing ${missing.map((k) => `--${k}`).join(', ')}\n\n${HELP}`);
    return 2;
  }
  const trigger = typeof v['trigger'] === 'string' ? v['trigger'] : 'manual';
  if (trigger !== 'manual' && !/^qemu:.+/.test(trigger)) {
    io.stderr(`carryover migrate: --trigger ${trigger}: expected manual or qemu:/path/to/qmp.sock`);
    return 2;
  }
  try {
    const inv = loadInventory(v['config'] as string);
    const plan = planMigration(inv, v['vm'] as string, v['from'] as string, v['to'] as string);
    if (v['json']) io.stdout(JSON.stringify(planJson(plan)));
    else {
      io.stdout(`plan: VM ${plan.vm.name} (${plan.vm.address}) from ${plan.fromHost} to ${plan.toHost}, topology ${plan.topology}`);
      io.stdout(`  sources:      ${plan.sources.map((d) => `${d.name} (${d.address}, device ${d.deviceId})`).join(', ')}`);
      io.stdout(`  destinations: ${plan.destinations.map((d) => `${d.name} (${d.address}, device ${d.deviceId})`).join(', ')}`);
      if (plan.placement) io.stdout(`  placement:    ${plan.placement.name}: ${plan.placement.algorithm}(${plan.placement.fields.join(', ')}) over ${plan.placement.devices.join(', ')}`);
    }
    if (v['plan']) return 0;
    io.stderr('carryover migrate: the migration engine is not built yet (the plan above is what it would move); nothing was done. Use --plan to validate only.');
    return 2;
  } catch (e) {
    const err = e instanceof ControllerError ? e : ControllerError.from(e);
    io.stderr(`carryover migrate: ${err.message}`);
    return 2;
  }
}

/**
 * The `carryover` command line: one subcommand per job (DESIGN.md §9). A subcommand that a later
 * issue fills in says so plainly and exits non-zero; it never pretends.
 */
import type { ParseArgsConfig } from 'node:util';
import { survivesClosedOutput } from './closed-output.js';
import { didYouMean, parseFlags as parseCommandFlags } from '../../plugin/cli-flags.js';

/** Exit codes: 0 success, 1 the job ran and failed, 2 usage error or not available. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface Subcommand {
  readonly summary: string;
  readonly run: (argv: string[]) => Promise<number>;
}


const SUBCOMMANDS: Record<string, Subcommand> = {
  demo: {
    summary: "self-contained demo: a VM's flows keep running on simulated switches while carryover live-migrates their state, and the same traffic without it (--flows, --topology, --profile, --vm qemu, --json)",
    run: async (argv) => (await import('./demo-command.js')).runDemoCommand(argv),
  },
  sim: {
    summary: 'start a software P4 switch (--listen, --profile, --device-id, --program, --cpu-port)',
    run: async (argv) => (await import('../../sim/cli.js')).runSimCommand(argv),
  },
  plugin: {
    summary: 'run the edge plugin beside a switch (--config FILE)',
    run: async (argv) => (await import('../../plugin/cli.js')).runPluginCommand(argv),
  },
  migrate: {
    summary: "migrate one VM's state (--config, --vm, --from, --to, --trigger); --plan validates and shows the plan",
    run: async (argv) => (await import('../../controller/cli.js')).runMigrateCommand(argv),
  },
  recover: {
    summary: 'finish what a stopped controller left in its journal: roll back, clean the sources, or ask QEMU where the VM runs (--config, --trigger, --vm-at, --list)',
    run: async (argv) => (await import('../../controller/recover-command.js')).runRecoverCommand(argv),
  },
  journal: {
    summary: "the journal's migrations and how each ended; one migration's records; prune finished ones (--config, --vm, --migration-id, --prune --older-than)",
    run: async (argv) => (await import('../../controller/journal-command.js')).runJournalCommand(argv),
  },
  federation: {
    summary: "serve this domain's controller to peer domains (--config): the destination side of cross-domain migrations",
    run: async (argv) => (await import('../../controller/federation/federation-command.js')).runFederationCommand(argv),
  },
  'hw-test': {
    summary: 'validate a real target (--target, --profile, --p4info, --device-config, --peer)',
    run: async (argv) => (await import('../../hw-test/cli.js')).runHwTestCommand(argv),
  },
  bench: {
    summary: 'run benchmarks and write a results table (bench p4rt | sim | pipeline | migrate | first-pause | domains | daemons | qemu | all)',
    run: async (argv) => (await import('./bench-command.js')).runBenchCommand(argv),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((n) => n.length));
  const rows = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`);
  return ['usage: carryover <command> [options]', '', 'commands:', ...rows, '', 'carryover <command> --help for its options.'].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(usage());
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === '--version') {
    console.log('carryover 0.1.0');
    return EXIT_OK;
  }
  const sub = SUBCOMMANDS[command];
  if (!sub) {
    console.error(`carryover: unknown command '${command}'${didYouMean(command, Object.keys(SUBCOMMANDS))}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  survivesClosedOutput(process.stdout);
  survivesClosedOutput(process.stderr);
  try {
    return await sub.run(rest);
  } catch (e) {
    const err = e as Error;
    console.error(`carryover ${command}: ${err.message}`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}

/** A bad command line: reported with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** Parses flags for a subcommand, turning parse errors into a UsageError naming the command. */
export function parseFlags<T extends FlagOptions>(command: string, argv: string[], options: T) {
  try {
    return parseCommandFlags({ options, args: argv, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see 'carryover ${command} --help')`);
  }
}

/**
 * One in-band client in a process of its own, for the side-by-side rows of `bench pipeline`: the
 * bare client or the plugin's in-band backend sends READ_SLOT requests to a switch and reports
 * its rate and its own CPU (process.cpuUsage of this process only — the switch runs elsewhere,
 * and the other client is not in this heap). A warm-up run comes first so the JIT and the
 * stream are settled before the measured one.
 *
 * Run as a script: `node --import tsx inband-client-process.ts <json>` prints one JSON line.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema, P4Switch, silentLogger, systemClock } from 'p4runtime-ts';
import { INBAND_OP, InbandRegisterAccess, parseInbandOptions, readMigrationContract, slotGroup, switchInbandChannel } from '../../plugin/index.js';
import { runBareInband } from './inband-bare-client.js';

/** Which client runs. */
export type InbandClientKind = 'bare' | 'plugin';

/** What the child is asked to do. */
export interface InbandClientJob {
  readonly kind: InbandClientKind;
  readonly address: string;
  readonly deviceId: number;
  /** Unique per child: each becomes primary while it runs. */
  readonly electionId: number;
  readonly requests: number;
  readonly warmup: number;
  readonly window: number;
}

/** What the child measured. */
export interface InbandClientResult {
  readonly kind: InbandClientKind;
  readonly requests: number;
  readonly seconds: number;
  /** User + system CPU of the client process over the measured run, ms. */
  readonly cpuMs: number;
}

const HERE = fileURLToPath(import.meta.url);
const P4INFO = join(dirname(HERE), '..', '..', 'p4', 'stateful_edge.p4info.txtpb');

/** Runs `job` in this process: connects, warms up, measures one run. */
export async function runInbandClient(job: InbandClientJob): Promise<InbandClientResult> {
  const schema = P4Schema.fromFile(P4INFO);
  const contract = readMigrationContract(schema);
  const group = slotGroup(contract);
  let measure: (count: number) => Promise<void>;
  let close: () => Promise<void>;
  if (job.kind === 'bare') {
    const base = { address: job.address, deviceId: BigInt(job.deviceId), electionId: BigInt(job.electionId), schema, slots: group.slots, window: job.window, op: INBAND_OP.READ_SLOT };
    measure = (count) => runBareInband({ ...base, requests: count });
    close = async () => undefined;
  } else {
    const sw = await P4Switch.connect({ address: job.address, deviceId: job.deviceId, electionId: BigInt(job.electionId), schema });
    await sw.waitForPrimary();
    const spec = contract.inband;
    if (!spec) throw new Error('stateful_edge declares no in-band service');
    const access = new InbandRegisterAccess({
      group,
      spec,
      channel: switchInbandChannel(sw),
      options: parseInbandOptions({ window: job.window }),
      clock: systemClock,
      logger: silentLogger,
      counters: () => Promise.reject(new Error('no counters in this bench')),
      reason: 'bench',
    });
    measure = async (count) => {
      await access.readSlots({ ranges: [{ start: 0, count: Math.min(count, group.slots) }] });
    };
    close = async () => {
      access.close();
      await sw.close();
    };
  }
  try {
    if (job.warmup > 0) await measure(job.warmup);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await measure(job.requests);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { kind: job.kind, requests: job.requests, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    await close();
  }
}

/** Runs `job` in a child process of its own and resolves with its result. */
export function runInbandClientProcess(job: InbandClientJob): Promise<InbandClientResult> {
  // Under tsx this file is .ts and the child needs tsx's loader; built, it is plain .js.
  const loader = HERE.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, HERE, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`in-band ${job.kind} client exited with ${String(code)}: ${err.slice(-800)}`));
      resolve(JSON.parse(line) as InbandClientResult);
    });
  });
}

if (process.argv[1] === HERE) {
  const job = JSON.parse(process.argv[2] ?? '{}') as InbandClientJob;
  runInbandClient(job).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

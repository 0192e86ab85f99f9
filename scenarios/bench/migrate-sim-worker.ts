/**
 * A simulated switch for `carryover bench migrate` in a process of its own (its own event loop
 * and heap, as a real switch has: the controller's pause is not the switch's work or GC), with a
 * side channel over Node IPC for what a lab does out of band: traffic straight into the data
 * plane (10^5 handshakes in seconds, not minutes of PacketOut), and reads of the registers and
 * counters that check a migration — none of which reaches the switch as a P4Runtime request,
 * so the requests counted in a pause are the controller's only.
 *
 * Run by `startMigrateSimWorker` (fork with IPC); the child starts `startSimSwitch` and answers.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from 'p4runtime-ts';
import { fieldValue, readMigrationContract, slotGroup } from '../../plugin/index.js';
import type { SimProfileName, SimSwitch } from '../../sim/index.js';
import { startSimSwitch } from '../../sim/index.js';
import { compileModeArgs } from '../cli/eager-compile.js';
import { SCHEMA } from '../edge-rig.js';
import { BENCH_VMS, dataSegmentFrame, handshakeFrames, slotFingerprint } from './migrate-flows.js';
import type { BenchVm, SlotFingerprint } from './migrate-flows.js';
import type { MigrateSwitchSide, SwitchCounters as Counters } from './migrate-switch-side.js';

/** What the bench asks of a worker. */
type Request =
  | { readonly op: 'establish'; readonly vm: number; readonly first: number; readonly count: number }
  | { readonly op: 'change'; readonly vm: number; readonly flows: readonly number[] }
  | { readonly op: 'fingerprint'; readonly vmId: number; readonly ignore: readonly string[] }
  | { readonly op: 'counters'; readonly vmId: number }
  | { readonly op: 'slots'; readonly vmId: number };

/** A switch in its own process, and its side channel (fingerprints scan every slot). */
export interface MigrateSimWorker extends MigrateSwitchSide {
  readonly pid: number;
}

const HERE = fileURLToPath(import.meta.url);

/** Packets injected between two turns of the event loop, so the switch keeps answering its clients. */
const INJECT_CHUNK = 256;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Serves the bench's requests against `sim` (in the child). */
function serve(sim: SimSwitch): (r: Request) => Promise<unknown> {
  const contract = readMigrationContract(SCHEMA);
  const group = slotGroup(contract);
  // Segments sent per VM and flow so far: the next one continues the sequence.
  const sent = BENCH_VMS.map(() => new Map<number, number>());
  const vmOf = (n: number): BenchVm => {
    const v = BENCH_VMS[n];
    if (!v) throw new RangeError(`no bench VM ${n}`);
    return v;
  };
  /** The occupied slots of switch-local VM `vmId`, ascending. */
  const occupiedBy = (vmId: number): number[] => {
    const out: number[] = [];
    const validReg = group.words[group.valid.word]?.register ?? '';
    const vmReg = group.words[group.vm.word]?.register ?? '';
    for (let i = 0; i < group.slots; i++) {
      const probe: bigint[] = [];
      probe[group.valid.word] = sim.state.registerRead(validReg, i);
      if (fieldValue(probe, group.valid) === 0n) continue;
      probe[group.vm.word] = sim.state.registerRead(vmReg, i);
      if (fieldValue(probe, group.vm) === BigInt(vmId)) out.push(i);
    }
    return out;
  };
  return async (r) => {
    switch (r.op) {
      case 'establish': {
        const ok: number[] = [];
        for (let i = r.first; i < r.first + r.count; i++) {
          if (handshakeFrames(vmOf(r.vm), i).every((f) => sim.dataplane.inject(f.port, f.payload).kind === 'forward')) ok.push(i);
          if ((i - r.first) % INJECT_CHUNK === INJECT_CHUNK - 1) await turn();
        }
        return ok;
      }
      case 'change': {
        // Traffic and control requests interleave, as on a switch whose ports and CPU port both
        // run: a long burst in one turn would starve the in-band answers the controller waits for.
        let passed = 0;
        for (const [k, i] of r.flows.entries()) {
          const n = sent[r.vm]?.get(i) ?? 0;
          sent[r.vm]?.set(i, n + 1);
          const f = dataSegmentFrame(vmOf(r.vm), i, n);
          if (sim.dataplane.inject(f.port, f.payload).kind === 'forward') passed++;
          if (k % INJECT_CHUNK === INJECT_CHUNK - 1) await turn();
        }
        return passed;
      }
      case 'fingerprint':
        return slotFingerprint(group, occupiedBy(r.vmId).map((i) => group.words.map((w) => sim.state.registerRead(w.register, i))), r.ignore);
      case 'slots':
        return occupiedBy(r.vmId);
      case 'counters': {
        const out: Counters = {};
        for (const c of contract.counters) out[c.counter] = sim.state.counter(c.counter, r.vmId);
        return out;
      }
    }
  };
}

/** The child: starts the switch, reports its address, answers requests until told to stop. */
async function child(profile: SimProfileName): Promise<void> {
  const logger = createLogger({ level: 'warn', fields: { component: 'sim' }, sink: (r) => process.stderr.write(`${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`) });
  const sim = await startSimSwitch({ profile, program: 'stateful_edge', listen: '127.0.0.1:0', deviceId: 1, logger });
  const handle = serve(sim);
  process.on('message', (m: { id: number; req?: Request; stop?: true }) => {
    if (m.stop) {
      void sim.stop().then(() => process.exit(0));
      return;
    }
    handle(m.req as Request).then(
      (result) => process.send?.({ id: m.id, ok: true, result }),
      (e: unknown) => process.send?.({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  });
  // The bench that forked this switch is gone (killed, crashed): its IPC channel closes, so end too.
  process.once('disconnect', () => void sim.stop().then(() => process.exit(0)));
  process.send?.({ ready: sim.address });
}

/** Starts a worker switch of `profile` and resolves once it listens. */
export function startMigrateSimWorker(profile: SimProfileName, timeoutMs = 60_000): Promise<MigrateSimWorker> {
  // Under tsx (tests) this file is .ts and the child needs tsx's loader; built, it is plain .js
  // and compiles as a `carryover sim` started by the launcher would (eager by default).
  const execArgv = HERE.endsWith('.ts') ? ['--import', 'tsx'] : compileModeArgs(process.env);
  const proc: ChildProcess = fork(HERE, ['--migrate-sim-worker', profile], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`bench sim worker (${profile}) exited with ${String(code)}: ${err}`));
    pending.clear();
  });
  const call = <T>(req: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, req });
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`bench sim worker (${profile}) did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench sim worker (${profile}) exited with ${String(code)} before listening: ${err}`));
    });
    proc.on('message', (m: { ready?: string; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.ready !== undefined) {
        clearTimeout(timer);
        resolve({
          address: m.ready,
          pid: proc.pid ?? -1,
          establish: (first, count, vm = 0) => call<number[]>({ op: 'establish', vm, first, count }),
          change: (flows, vm = 0) => call<number>({ op: 'change', vm, flows }),
          fingerprint: (vmId, ignore) => call<SlotFingerprint>({ op: 'fingerprint', vmId, ignore }),
          counters: (vmId) => call<Counters>({ op: 'counters', vmId }),
          slotsOf: (vmId) => call<number[]>({ op: 'slots', vmId }),
          stop: async () => {
            if (proc.exitCode === null && proc.connected) proc.send({ stop: true });
            await exited;
          },
        });
        return;
      }
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p || m.id === undefined) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`bench sim worker (${profile}): ${m.error ?? 'failed'}`));
    });
  });
}

if (process.argv[1] === HERE && process.argv[2] === '--migrate-sim-worker') {
  child((process.argv[3] ?? 'full') as SimProfileName).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

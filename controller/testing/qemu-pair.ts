/**
 * Two real QEMU processes on loopback for tests and the QEMU benchmark: a source that runs the
 * BIOS of a disk-less 64 MiB VM, and a destination waiting for it (`-incoming tcp:127.0.0.1:PORT`),
 * each with a QMP Unix socket in a temporary directory. Every process is tracked by its PID and
 * only those are killed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { QmpClient } from '../qmp/index.js';

/** The QEMU binary: `CARRYOVER_QEMU`, else `qemu-system-x86_64` on PATH, else undefined. */
export function findQemu(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CARRYOVER_QEMU) return env.CARRYOVER_QEMU;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'qemu-system-x86_64');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Why QEMU tests are skipped here, or undefined when they can run. */
export const QEMU_SKIP_REASON: string | undefined = findQemu()
  ? undefined
  : 'qemu-system-x86_64 is not on PATH (apt-get install qemu-system-x86, or set CARRYOVER_QEMU)';

/** One QEMU process we started. */
export interface QemuProcess {
  readonly role: 'source' | 'destination';
  readonly pid: number;
  /** `unix:PATH` of its QMP socket. */
  readonly qmpAddress: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
  readonly hasExited: () => boolean;
  /** What QEMU wrote to stderr (for failure messages). */
  readonly stderr: () => string;
  /** SIGKILLs this process (only if still running) and waits for it to exit. */
  kill(): Promise<void>;
}

/** A source and a destination, ready to migrate. */
export interface QemuPair {
  readonly source: QemuProcess;
  readonly destination: QemuProcess;
  /** The URI to pass to `migrate`, e.g. `tcp:127.0.0.1:40123`. */
  readonly incomingUri: string;
  /** Kills both processes and removes the temporary directory. */
  stop(): Promise<void>;
}

export interface QemuPairOptions {
  readonly binary?: string;
  readonly memoryMb?: number;
  /** How long each QEMU may take to start answering on QMP (loaded machines are slow). */
  readonly startTimeoutMs?: number;
  /**
   * CPUs both QEMUs run on (a Linux CPU list such as `1` or `2-3,6`, started under util-linux
   * `taskset`): keeps QEMU off the CPUs of the controller and the switches, as on a deployment
   * where the hypervisor's cores are not theirs. Default: wherever the OS puts them.
   */
  readonly cpus?: string;
}

const CPU_LIST = /^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/;

/** Whether `list` is a Linux CPU list (`0`, `1-3`, `0,2-3`): ranges ascending. */
export function isCpuList(list: string): boolean {
  if (!CPU_LIST.test(list)) return false;
  return list.split(',').every((r) => {
    const [a, b] = r.split('-').map(Number);
    return b === undefined || (a as number) <= b;
  });
}

/** The CPUs this process may run on (Linux `Cpus_allowed_list`), or undefined where unknown. */
export function ownCpus(): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

const started = new Set<ChildProcess>();
// If the test process ends without stop(), the QEMUs it started do not outlive it.
process.once('exit', () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * Starts a source and a destination QEMU and waits until both answer on QMP (the destination
 * then listens for the migration stream).
 * @example
 * const pair = await startQemuPair();
 * try { ... migrate to pair.incomingUri ... } finally { await pair.stop(); }
 */
export async function startQemuPair(options: QemuPairOptions = {}): Promise<QemuPair> {
  const binary = options.binary ?? findQemu();
  if (!binary) throw new Error(QEMU_SKIP_REASON);
  if (options.cpus !== undefined && !isCpuList(options.cpus)) throw new Error(`QEMU CPUs '${options.cpus}' is not a CPU list (e.g. 1, 2-3 or 0,2): give the CPUs QEMU may run on`);
  const dir = mkdtempSync(join(tmpdir(), 'carryover-qemu-'));
  const procs: QemuProcess[] = [];
  try {
    const source = await startQemu(binary, 'source', dir, [], options);
    procs.push(source);
    // A port picked free can be taken before QEMU binds it; try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const destination = await startQemu(binary, 'destination', dir, ['-incoming', `tcp:127.0.0.1:${port}`], options).catch((e: unknown) => {
        if (attempt < 4 && /Address already in use/i.test(String(e))) return undefined;
        throw e;
      });
      if (!destination) continue;
      procs.push(destination);
      return {
        source,
        destination,
        incomingUri: `tcp:127.0.0.1:${port}`,
        stop: async () => {
          await Promise.all(procs.map((p) => p.kill()));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    await Promise.all(procs.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function startQemu(binary: string, role: QemuProcess['role'], dir: string, extra: string[], options: QemuPairOptions): Promise<QemuProcess> {
  const socketPath = join(dir, `${role}.qmp`);
  const args = ['-machine', 'pc,accel=tcg', '-m', String(options.memoryMb ?? 64), '-nodefaults', '-display', 'none', '-qmp', `unix:${socketPath},server=on,wait=off`, ...extra];
  // taskset execs QEMU in its own process: the PID tracked and killed is QEMU's.
  const child = options.cpus === undefined ? spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('taskset', ['-c', options.cpus, binary, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (err = (err + c).slice(-4000)));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      started.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      err += options.cpus !== undefined && (e as NodeJS.ErrnoException).code === 'ENOENT' ? `taskset not found (it places QEMU on CPUs ${options.cpus}): apt-get install util-linux, or start QEMU without a CPU list` : String(e);
      started.delete(child);
      resolve();
    });
  });
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  const proc: QemuProcess = {
    role,
    pid: child.pid ?? -1,
    qmpAddress: `unix:${socketPath}`,
    exited,
    hasExited,
    stderr: () => err,
    kill: async () => {
      if (!hasExited()) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (hasExited()) throw new Error(`${role} QEMU exited at start: ${err.trim() || 'no message'}`);
    if (existsSync(socketPath)) {
      // One answer on QMP means QEMU finished starting (the destination's -incoming listens).
      const probe = await QmpClient.connect({ address: proc.qmpAddress, connectTimeoutMs: 10_000 }).catch(() => undefined);
      if (probe) {
        await probe.execute('query-status');
        await probe.close();
        return proc;
      }
    }
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(`${role} QEMU did not answer on ${proc.qmpAddress} within ${options.startTimeoutMs ?? 30_000} ms: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

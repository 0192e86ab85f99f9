/**
 * A sim switch in its own process (`carryover sim`), for benchmarks: the server then has its own
 * event loop and heap, as a real switch has, so a client measurement is not the server's GC.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running `carryover sim` child process. */
export interface SimProcess {
  readonly address: string;
  readonly pid: number;
  /** The child process itself (e.g. to send it a signal and await its exit). */
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** `scenarios/bin/carryover.mjs`, found from the sources (scenarios/bench) or from the build (build/scenarios/bench). */
export const CARRYOVER_BIN = [join(HERE, '..', 'bin', 'carryover.mjs'), join(HERE, '..', '..', '..', 'scenarios', 'bin', 'carryover.mjs')].find((p) => existsSync(p)) ?? join(HERE, '..', 'bin', 'carryover.mjs');
const BIN = CARRYOVER_BIN;

/** Starts `carryover sim` with `args` and resolves once it prints its listening address. */
export function startSimProcess(args: readonly string[], timeoutMs = 30_000): Promise<SimProcess> {
  const child = spawn(process.execPath, [BIN, 'sim', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`carryover sim did not report its address within ${timeoutMs} ms: ${err.slice(-500)}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+?:\d+)/.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      resolve({
        address: m[1],
        pid: child.pid ?? -1,
        child,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`carryover sim exited with ${code} before listening: ${err.slice(-500)}`));
    });
  });
}

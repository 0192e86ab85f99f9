/**
 * Plugin daemons (`carryover plugin --config FILE`) for tests and demos: run in this process
 * (runPluginCommand with a stop signal of our own) or as a child process running the built
 * command — either way the daemon's own code path, serving the migration protocol over mutual
 * TLS. Each resolves once the daemon says where it serves.
 */
import { spawn } from 'node:child_process';
import { runPluginCommand } from '../plugin/index.js';
import type { SlotGroupSpec } from '../plugin/index.js';
import type { SimProfileName, SimSwitch } from '../sim/index.js';
import { startEdgeRig } from './edge-rig.js';
import type { EdgeRigOptions } from './edge-rig.js';
import { topology } from './migration-fixture.js';
import { CARRYOVER_BIN } from './bench/sim-process.js';

/** A daemon serving the migration protocol. */
export interface RunningDaemon {
  /** `host:port` of its migration protocol. */
  readonly address: string;
  /** What it printed so far. */
  readonly output: readonly string[];
  /** Stops it (SIGTERM); resolves with its exit status. */
  stop(): Promise<number>;
}

const SERVING = /serving the migration protocol on (\S+:\d+)/;

/** A daemon run in this process, not waited for: what it printed and logged, how it ends, how to stop it. */
export interface InProcessDaemon {
  readonly out: string[];
  readonly logs: Record<string, unknown>[];
  /** Its exit status. */
  readonly done: Promise<number>;
  /** Stops it (SIGTERM); resolves with its exit status. */
  stop(): Promise<number>;
}

/** Runs `carryover plugin --config config` in this process and returns at once; its log records go to `logs`. */
export function runDaemonInProcess(config: string, logs: Record<string, unknown>[] = []): InProcessDaemon {
  const out: string[] = [];
  let signal: (s: string) => void = () => undefined;
  const done = runPluginCommand(['--config', config], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal: new Promise<string>((r) => (signal = r)), logSink: (r) => logs.push({ ...r }) });
  return { out, logs, done, stop: async () => (signal('SIGTERM'), await done) };
}

/** Runs `carryover plugin --config config` in this process until it serves; its log records go to `logs` when given. */
export async function startDaemonInProcess(config: string, timeoutMs = 120_000, logs?: Record<string, unknown>[]): Promise<RunningDaemon> {
  const d = runDaemonInProcess(config, logs);
  const output = d.out;
  let exited: number | undefined;
  void d.done.then((c) => (exited = c));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = SERVING.exec(output.join('\n'));
    if (m?.[1]) return { address: m[1], output, stop: d.stop };
    if (exited !== undefined || Date.now() > end) {
      void d.stop();
      throw new Error(`plugin daemon ${config} did not serve (exit ${exited ?? 'none yet'}): ${output.join('\n').slice(-800)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs `node scenarios/bin/carryover.mjs plugin --config config` as a child process (the built JavaScript). */
export function startDaemonProcess(config: string, timeoutMs = 120_000): Promise<RunningDaemon & { readonly pid: number }> {
  const child = spawn(process.execPath, [CARRYOVER_BIN, 'plugin', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number>((r) => child.once('exit', (code, sig) => r(code ?? (sig ? 128 : 1))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`plugin daemon ${config} did not serve within ${timeoutMs} ms: ${output.join('').slice(-800)}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      output.push(d.toString());
      const m = SERVING.exec(output.join(''));
      if (!m?.[1]) return;
      clearTimeout(timer);
      resolve({
        address: m[1],
        pid: child.pid ?? -1,
        output,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`plugin daemon ${config} exited with ${code} before serving: ${output.join('').slice(-800)}`));
    });
  });
}

/**
 * A sim running stateful_edge with the test VM (10.0.0.5 on port 1) laid out as `vmId`, its
 * pipeline pushed and no controller left attached — a switch for a plugin daemon to take over.
 */
export async function startSwitchForDaemon(vmId: number, profile: SimProfileName = 'full', tls?: EdgeRigOptions['tls']): Promise<{ readonly sim: SimSwitch; readonly group: SlotGroupSpec; readonly counters: readonly string[] }> {
  const rig = await startEdgeRig({ profile, topology: false, ...(tls ? { tls } : {}) });
  try {
    await topology(rig.sw, vmId);
    const out = { sim: rig.sim, group: rig.plugin.group, counters: rig.plugin.contract.counters.map((c) => c.counter) };
    await rig.plugin.stop();
    return out;
  } catch (e) {
    await rig.stop();
    throw e;
  }
}

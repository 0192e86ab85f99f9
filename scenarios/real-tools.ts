/**
 * The real p4c and BMv2, for the opt-in tests that use them: found only through the environment
 * (CARRYOVER_P4C = path of p4c-bm2-ss, CARRYOVER_BMV2 = path of simple_switch_grpc), never built
 * or looked for anywhere else. A BMv2 started here listens on 127.0.0.1 on free ports and is
 * stopped by its PID.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';

/** The tools the environment names; a reason for each one that is missing. */
export interface RealTools {
  readonly p4c?: string;
  readonly bmv2?: string;
  readonly p4cMissing?: string;
  readonly bmv2Missing?: string;
}

function tool(variable: string, what: string): { path?: string; missing?: string } {
  const path = process.env[variable];
  if (!path) return { missing: `${variable} is not set (the path of ${what}); the test is skipped` };
  if (!existsSync(path)) return { missing: `${variable}=${path} does not exist` };
  return { path };
}

/** Reads CARRYOVER_P4C and CARRYOVER_BMV2. */
export function realToolsFromEnv(): RealTools {
  const p = tool('CARRYOVER_P4C', 'p4c-bm2-ss 1.2.4.8');
  const b = tool('CARRYOVER_BMV2', 'simple_switch_grpc 1.15.5 built with PI');
  return { ...(p.path ? { p4c: p.path } : { p4cMissing: p.missing }), ...(b.path ? { bmv2: b.path } : { bmv2Missing: b.missing }) };
}

/** What one p4c run wrote. */
export interface CompileOutput {
  readonly json: string;
  readonly p4info: string;
}

/**
 * Compiles `source` with p4c-bm2-ss from the source's own folder (so file names in the JSON are
 * relative to it), writing `<name>.json` and `<name>.p4info.txtpb` into `outDir`; `options` go
 * before the source (e.g. `-DCT_SLOTS=…` for a variant, with `name` naming its outputs).
 */
export function compileP4(p4c: string, source: string, outDir: string, options: readonly string[] = [], outName?: string): CompileOutput {
  const name = outName ?? basename(source).replace(/\.p4$/, '');
  const json = join(outDir, `${name}.json`);
  const p4info = join(outDir, `${name}.p4info.txtpb`);
  const r = spawnSync(p4c, [...options, basename(source), '-o', json, '--p4runtime-files', p4info], { cwd: dirname(resolve(source)), encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`p4c-bm2-ss failed on ${source} (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}${r.stdout}`);
  return { json: readFileSync(json, 'utf8'), p4info: readFileSync(p4info, 'utf8') };
}

/**
 * The BMv2 JSON with what depends on where p4c is installed made neutral: source file names
 * outside the program's folder (p4c's own core.p4 and v1model.p4) become their base name.
 */
export function normaliseBmv2Json(text: string): unknown {
  const doc: unknown = JSON.parse(text);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === 'filename' && typeof x === 'string' && x.startsWith('/') ? basename(x) : walk(x);
    return out;
  };
  return walk(doc);
}

/** A free TCP port on 127.0.0.1 (taken and released; a race with other processes is possible). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      ok(true);
    });
    sock.once('error', () => ok(false));
  });
}

/** A running simple_switch_grpc. */
export interface Bmv2Process {
  readonly address: string;
  readonly pid: number;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** P4Runtime over TLS on a started simple_switch_grpc (PEM file paths). */
export interface Bmv2Tls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Require a client certificate signed by `ca` (mutual TLS). */
  readonly clientAuth: boolean;
}

/**
 * Starts simple_switch_grpc with no program, device id 0, logging off, the CPU port 255 and
 * P4Runtime, notifications (and Thrift, when the build has it) on addresses of its own; resolves
 * once P4Runtime accepts connections. With `tls`, P4Runtime is served over (mutual) TLS; with
 * `grpcPort`, P4Runtime listens there (a test run confined to a port range).
 */
export async function startBmv2(bmv2: string, timeoutMs = 20_000, tls?: Bmv2Tls, grpcPort?: number): Promise<Bmv2Process> {
  grpcPort ??= await freePort();
  // A build without Thrift (PI only) refuses --thrift-port; one with it would otherwise take 9090.
  const help = spawnSync(bmv2, ['--help'], { encoding: 'utf8', timeout: 30_000 });
  const helpText = `${help.stdout ?? ''}${help.stderr ?? ''}`;
  const thrift = helpText.includes('--thrift-port') ? ['--thrift-port', String(await freePort())] : [];
  // Likewise a build without nanomsg has no --notifications-addr (and refuses it).
  const notifications = helpText.includes('--notifications-addr') ? ['--notifications-addr', `ipc:///tmp/carryover-bmv2-${process.pid}-${grpcPort}.ipc`] : [];
  const args = [
    '--no-p4', '--device-id', '0', '--log-level', 'off', ...thrift, ...notifications,
    '--', '--grpc-server-addr', `127.0.0.1:${grpcPort}`, '--cpu-port', '255',
    ...(tls ? ['--grpc-server-ssl', '--grpc-server-cacert', tls.ca, '--grpc-server-cert', tls.cert, '--grpc-server-key', tls.key, ...(tls.clientAuth ? ['--grpc-server-with-client-auth'] : [])] : []),
  ];
  const child: ChildProcess = spawn(bmv2, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${bmv2}`);
  let exited = false;
  const gone = new Promise<void>((ok) => child.once('exit', () => { exited = true; ok(); }));
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(t);
  };
  const end = Date.now() + timeoutMs;
  while (!(await portOpen(grpcPort))) {
    if (exited || Date.now() > end) {
      await stop();
      throw new Error(`simple_switch_grpc did not accept P4Runtime connections on 127.0.0.1:${grpcPort} within ${timeoutMs} ms${exited ? ' (it exited)' : ''}: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address: `127.0.0.1:${grpcPort}`, pid, stderr: () => err, stop };
}

/**
 * Eager compilation for the `carryover` processes (scenarios/bin/carryover.mjs applies it before
 * loading anything else).
 *
 * V8 compiles a function to bytecode the first time it is called. A migration's pause-window sync
 * runs code that nothing ran before it in the process — the freeze, the final reads, the
 * activation — so the first pause of a process paid for compiling that code inside the window the
 * VM is stopped for (BENCHMARKS.md, "the first pause of a process"). `carryover migrate` runs one
 * migration per process: every pause it makes is a first pause.
 * With V8's `--no-lazy`, set before the modules load, every function is compiled when its module
 * loads instead (about 0.25 s and 8 MB more at start, nothing inside the pause), and with
 * `--no-lazy-feedback-allocation` a function collects type feedback from its first call, not
 * only after several: a function the pause calls once runs with what it learned there.
 * `--no-flush-bytecode` keeps that bytecode: V8 otherwise drops the bytecode of functions idle
 * across a few collections, and the pause's code is idle between migrations — `perf` found a sim
 * parsing JavaScript inside the pause (BENCHMARKS.md, session of 2026-12-04 from 19:10).
 *
 * @example
 * ```ts
 * applyCompileMode(process.env); // 'eager' unless CARRYOVER_EAGER_COMPILE=0
 * const { main } = await import('./main.js'); // compiled eagerly from here on
 * ```
 */
import { setFlagsFromString } from 'node:v8';

/** The environment variable that turns eager compilation off (`0`) or on (`1`, the default). */
export const EAGER_COMPILE_ENV = 'CARRYOVER_EAGER_COMPILE';

/** How the process compiles the modules it loads from now on. */
export type CompileMode = 'eager' | 'lazy';

/** V8's flags for each mode (`lazy` is V8's default). */
const FLAGS: Readonly<Record<CompileMode, readonly string[]>> = {
  eager: ['--no-lazy', '--no-lazy-feedback-allocation', '--no-flush-bytecode'],
  lazy: ['--lazy', '--lazy-feedback-allocation', '--flush-bytecode'],
};

/** A value of CARRYOVER_EAGER_COMPILE that is neither 0 nor 1. */
export class CompileModeError extends Error {
  override readonly name = 'CompileModeError';
}

/** The compile mode `env` asks for (unset: eager); throws CompileModeError naming the variable for anything but 0 or 1. */
export function parseCompileMode(env: Readonly<Record<string, string | undefined>>): CompileMode {
  const v = env[EAGER_COMPILE_ENV];
  if (v === undefined || v === '' || v === '1') return 'eager';
  if (v === '0') return 'lazy';
  throw new CompileModeError(`${EAGER_COMPILE_ENV}=${v}: expected 1 (compile every function when its module loads, the default) or 0 (V8's lazy compilation)`);
}

/** The node command-line flags that start a child process of ours in the mode `env` asks for (the same as applyCompileMode). */
export function compileModeArgs(env: Readonly<Record<string, string | undefined>>): string[] {
  const mode = parseCompileMode(env);
  return mode === 'eager' ? [...FLAGS.eager] : [];
}

/** Applies the mode `env` asks for to modules loaded after this call; returns it (throws CompileModeError, changing nothing, on a bad value). */
export function applyCompileMode(env: Readonly<Record<string, string | undefined>>): CompileMode {
  const mode = parseCompileMode(env);
  for (const f of FLAGS[mode]) setFlagsFromString(f);
  return mode;
}

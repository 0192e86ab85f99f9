import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CompileModeError, EAGER_COMPILE_ENV, compileModeArgs, parseCompileMode } from './eager-compile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = pathToFileURL(join(root, 'build', 'scenarios', 'cli', 'eager-compile.js')).href;

/**
 * In a fresh node: applies the mode `env` asks for with the built module, then loads a module of
 * 400 functions nobody calls; prints how much bytecode that load made (V8's code statistics).
 */
async function bytecodeOfUncalledModule(value: string | undefined): Promise<number> {
  const fns = Array.from({ length: 400 }, (_, i) => `export function f${i}(a, b) { const x = [a, b, ${i}]; return x.map((v) => String(v) + '${i}').join(','); }`).join('\n');
  const script = `
    import { getHeapCodeStatistics } from 'node:v8';
    const { applyCompileMode } = await import(${JSON.stringify(built)});
    applyCompileMode(process.env);
    const before = getHeapCodeStatistics().bytecode_and_metadata_size;
    await import('data:text/javascript,' + encodeURIComponent(${JSON.stringify(fns)}));
    console.log(getHeapCodeStatistics().bytecode_and_metadata_size - before);`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[EAGER_COMPILE_ENV];
  if (value !== undefined) env[EAGER_COMPILE_ENV] = value;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 30_000 });
  return Number(stdout.trim());
}

describe('eager compile', () => {
  it('eager compile — unset or 1 is eager, 0 is lazy, anything else refused naming the variable and its values', () => {
    expect(parseCompileMode({})).toBe('eager');
    expect(parseCompileMode({ [EAGER_COMPILE_ENV]: '1' })).toBe('eager');
    expect(parseCompileMode({ [EAGER_COMPILE_ENV]: '' })).toBe('eager');
    expect(parseCompileMode({ [EAGER_COMPILE_ENV]: '0' })).toBe('lazy');
    // A child process of ours (the bench's switches) starts in the same mode.
    expect(compileModeArgs({})).toEqual(['--no-lazy', '--no-lazy-feedback-allocation', '--no-flush-bytecode']);
    expect(compileModeArgs({ [EAGER_COMPILE_ENV]: '0' })).toEqual([]);
    for (const bad of ['yes', 'false', '2', ' 1']) {
      expect(() => parseCompileMode({ [EAGER_COMPILE_ENV]: bad })).toThrow(CompileModeError);
      expect(() => parseCompileMode({ [EAGER_COMPILE_ENV]: bad })).toThrow(/CARRYOVER_EAGER_COMPILE=.*expected 1 .* or 0/);
    }
  });

  it('eager compile — a module loaded after it compiles the functions nobody called yet; with 0 it does not', { timeout: 60_000 }, async () => {
    const [eager, lazy] = await Promise.all([bytecodeOfUncalledModule(undefined), bytecodeOfUncalledModule('0')]);
    // 400 compiled functions are tens of kilobytes of bytecode; lazily, only the module's top level.
    expect(eager).toBeGreaterThan(20_000);
    expect(eager).toBeGreaterThan(lazy * 4);
  });
});

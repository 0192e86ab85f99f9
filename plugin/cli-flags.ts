/**
 * Command lines read alike in every carryover command: Node's parseArgs (strict), with a negative
 * number accepted as an option's value and its errors made readable — "did you mean" for an
 * unknown flag, and what to do about a value parseArgs cannot tell from a flag. Also the one
 * "did you mean" phrasing for names given on the command line or in a configuration file.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { suggest } from 'p4runtime-ts';

/** `; did you mean 'x'?` (or `'x' or 'y'`) for `wanted` among `candidates`; empty when none is near. */
export function didYouMean(wanted: string, candidates: Iterable<string>, quote: (s: string) => string = (s) => `'${s}'`): string {
  const near = suggest(wanted, candidates);
  return near.length === 0 ? '' : `; did you mean ${near.map(quote).join(' or ')}?`;
}

type Options = NonNullable<ParseArgsConfig['options']>;
// A negative number ("-1", "-0.5"): never a flag, since no option is a digit.
const NEGATIVE = /^-\.?\d/;

/**
 * `--flag -5` as `--flag=-5` for a string option: parseArgs refuses a value starting with '-'
 * unless joined, so the command's own range check can name the bound for both spellings.
 */
function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return [...out, ...args.slice(i)];
    const next = args[i + 1];
    const opt = a.startsWith('--') && !a.includes('=') ? options[a.slice(2)] : undefined;
    if (opt?.type === 'string' && next !== undefined && NEGATIVE.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** parseArgs' error as a sentence naming the fix. */
function readable(e: unknown, args: readonly string[], options: Options): string {
  const err = e as Error & { code?: string };
  const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const flag = unknown[1] as string;
    const flags = Object.entries(options).flatMap(([n, o]) => [`--${n}`, ...(o.short ? [`-${o.short}`] : [])]);
    return `Unknown option '${flag}'${didYouMean(flag, flags, (s) => s)}`;
  }
  const ambiguous = /^Option '(--[^' ]+)' argument is ambiguous/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && ambiguous) {
    const flag = ambiguous[1] as string;
    const after = args[args.indexOf(flag) + 1];
    return `option '${flag}' needs a value, but '${String(after)}' follows it; give the value after ${flag} (a value starting with '-' as ${flag}=VALUE)`;
  }
  return err.message;
}

/**
 * parseArgs (strict unless `config` says otherwise); `--flag -5` is read as `--flag=-5` for string options.
 * @throws Error with a readable message (the unknown flag and the nearest known one, or the fix), parseArgs' error as its cause.
 * @example parseFlags({ args: ['--pause-deadline', '3'], options: { 'pause-deadline-ms': { type: 'string' } } }) // throws "Unknown option '--pause-deadline'; did you mean --pause-deadline-ms?"
 */
export function parseFlags<T extends ParseArgsConfig & { args: string[]; options: Options }>(config: T): ReturnType<typeof parseArgs<T>> {
  const args = joinNegativeValues(config.args, config.options);
  try {
    // strict is parseArgs' default: an unknown flag is refused.
    return parseArgs<T>({ ...config, args });
  } catch (e) {
    throw new Error(readable(e, args, config.options), { cause: e });
  }
}

import { describe, expect, it } from 'vitest';
import { didYouMean, parseFlags } from './cli-flags.js';

const options = { 'pause-deadline-ms': { type: 'string' }, flows: { type: 'string' }, plan: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
const fails = (args: string[], allowPositionals = false): string => {
  try {
    parseFlags({ args, options, allowPositionals });
  } catch (e) {
    return (e as Error).message;
  }
  return 'parsed';
};

describe('cli flags — parseArgs made readable', () => {
  it('cli flags — an unknown flag names the nearest known one, without the positional-argument aside', () => {
    expect(fails(['--pause-deadline', '3'])).toBe("Unknown option '--pause-deadline'; did you mean --pause-deadline-ms?");
    expect(fails(['--flowz', '5'], true)).toBe("Unknown option '--flowz'; did you mean --flows?");
    expect(fails(['--zzzzzz'])).toBe("Unknown option '--zzzzzz'");
  });

  it('cli flags — a negative number after a string option is its value, so the command range-checks it (walkthrough 22: "argument is ambiguous")', () => {
    expect(parseFlags({ args: ['--pause-deadline-ms', '-1'], options }).values['pause-deadline-ms']).toBe('-1');
    expect(parseFlags({ args: ['--flows', '-5', '--plan'], options }).values).toEqual({ flows: '-5', plan: true });
    expect(parseFlags({ args: ['--flows=-5'], options }).values.flows).toBe('-5');
    // After '--' nothing is an option's value.
    expect(parseFlags({ args: ['--', '--flows', '-5'], options, allowPositionals: true }).positionals).toEqual(['--flows', '-5']);
  });

  it('cli flags — a flag where a value belongs says which and how to give a value starting with "-"', () => {
    expect(fails(['--flows', '--plan'])).toBe("option '--flows' needs a value, but '--plan' follows it; give the value after --flows (a value starting with '-' as --flows=VALUE)");
  });

  it('cli flags — did you mean: near names only, quoted; nothing when none is near', () => {
    expect(didYouMean('migrat', ['demo', 'migrate', 'recover'])).toBe("; did you mean 'migrate'?");
    expect(didYouMean('teleport', ['demo', 'migrate'])).toBe('');
  });
});

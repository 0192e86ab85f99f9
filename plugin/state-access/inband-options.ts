/**
 * The in-band engine's knobs, validated at the edge: how many requests may be in flight, how long
 * an attempt may stay unanswered, and how many attempts a request gets.
 */
import { EdgePluginError } from '../errors.js';

/** Knobs of the in-band engine. */
export interface InbandOptions {
  /** Attempts in flight at most (the lab: ~64 is safe on BMv2, 256 loses ≈1 %). */
  readonly window: number;
  /** How long an attempt may stay unanswered before it counts as lost. */
  readonly timeoutMs: number;
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
}

/** Defaults of the in-band engine. */
export const DEFAULT_INBAND_OPTIONS: InbandOptions = Object.freeze({ window: 64, timeoutMs: 250, maxAttempts: 5 });

/** Validates in-band options over the defaults; BAD_OPTIONS names the field and the range. */
export function parseInbandOptions(input: Partial<InbandOptions> = {}, where = 'inband'): InbandOptions {
  const o = { ...DEFAULT_INBAND_OPTIONS, ...input };
  const int = (name: keyof InbandOptions, min: number, max: number): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new EdgePluginError('BAD_OPTIONS', `${where}.${name}: got ${JSON.stringify(v)}; expected an integer in ${min}..${max}`);
    }
    return v;
  };
  const timeoutMs = o.timeoutMs;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new EdgePluginError('BAD_OPTIONS', `${where}.timeoutMs: got ${JSON.stringify(timeoutMs)}; expected a positive number of milliseconds, e.g. 250`);
  }
  return Object.freeze({ window: int('window', 1, 65536), timeoutMs, maxAttempts: int('maxAttempts', 1, 100) });
}

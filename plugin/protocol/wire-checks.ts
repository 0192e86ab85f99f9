/**
 * Checks of decoded protocol values shared by the migration protocol's codecs: each refuses a
 * malformed value with PEER_REJECTED naming the message field and what was expected.
 */
import { DeviceApiFailure } from '../device-api/migration-sessions.js';
import type { WireMessage } from './wire.js';

/** The failure for a malformed value of `what`. */
export const bad = (what: string, why: string): DeviceApiFailure => new DeviceApiFailure('PEER_REJECTED', `malformed ${what}: ${why}`);

/** A non-empty string. */
export const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v === '') throw bad(what, 'expected a non-empty string');
  return v;
};
/** An unsigned safe integer. */
export const uint = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(what, `expected an unsigned integer, got ${String(v)}`);
  return v;
};
/** A repeated field. */
export const list = (v: unknown, what: string): unknown[] => {
  if (!Array.isArray(v)) throw bad(what, 'expected a list');
  return v;
};
/** A present sub-message. */
export const msg = (v: unknown, what: string): WireMessage => {
  if (typeof v !== 'object' || v === null) throw bad(what, 'the message is missing');
  return v as WireMessage;
};
/** One of a closed set of strings. */
export const oneOf = <T extends string>(v: unknown, allowed: readonly T[], what: string): T => {
  if (!(allowed as readonly unknown[]).includes(v)) throw bad(what, `'${String(v)}' is not one of ${allowed.join(', ')}`);
  return v as T;
};

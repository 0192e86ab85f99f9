/**
 * The one error class of hw-test. Its `code` is a closed set; the command line maps it to an exit
 * status (BAD_OPTIONS and REFUSED are the caller's to fix: exit 2; the rest: exit 1).
 */

/** Why hw-test could not run (a FAILing check is not an error: it is in the report). */
export const HW_TEST_ERROR_CODES = [
  'BAD_OPTIONS', // a flag or option is malformed or missing
  'REFUSED', // the target's pipeline is missing or not the expected one, and --push-pipeline was not given
  'UNREACHABLE', // no P4Runtime session could be opened with the target
  'SETUP', // the test fixture could not be installed (e.g. an entry with our key already exists)
  'INTERNAL', // anything else: a bug
] as const;

export type HwTestErrorCode = (typeof HW_TEST_ERROR_CODES)[number];

/** The error hw-test throws when it cannot produce a report. */
export class HwTestError extends Error {
  override readonly name = 'HwTestError';
  readonly code: HwTestErrorCode;

  constructor(code: HwTestErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Shorthand for an option error naming the flag, what was given, and the fix. */
export function badOption(flag: string, message: string): HwTestError {
  return new HwTestError('BAD_OPTIONS', `${flag}: ${message}`);
}

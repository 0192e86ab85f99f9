/**
 * Opening P4Runtime sessions with the target: the main one (primary, no reconnect — a test must
 * see a broken stream, not paper over it) and the short-lived extra ones the arbitration checks
 * open with chosen election ids.
 */
import { P4Switch, silentLogger } from 'p4runtime-ts';
import type { P4SwitchOptions } from 'p4runtime-ts';
import type { ParsedHwTestOptions } from './options.js';

/**
 * P4Switch options for a session with the target. Extra sessions log nothing: the arbitration
 * checks make them fail on purpose.
 */
export function switchOptions(o: ParsedHwTestOptions, electionId: bigint | undefined, connectTimeoutMs = o.connectTimeoutMs, extra = false): P4SwitchOptions {
  return {
    address: o.target,
    deviceId: o.deviceId,
    ...(electionId !== undefined ? { electionId } : {}),
    credentials: o.credentials,
    connectTimeoutMs,
    reconnect: { enabled: false },
    onElectionIdConflict: 'fail',
    schema: o.schema,
    logger: extra ? silentLogger : o.logger,
  };
}

/** Opens the main session; resolves once the target answered arbitration (primary or backup). */
export function connectSwitch(o: ParsedHwTestOptions, electionId: bigint | undefined): Promise<P4Switch> {
  return P4Switch.connect(switchOptions(o, electionId));
}

/** Opens a short-lived extra session with a chosen election id (quiet, short timeout). */
export function connectExtra(o: ParsedHwTestOptions, electionId: bigint, connectTimeoutMs: number): Promise<P4Switch> {
  return P4Switch.connect(switchOptions(o, electionId, connectTimeoutMs, true));
}

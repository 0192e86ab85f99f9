/**
 * Opening P4Runtime sessions with the target: the main one (primary, no reconnect — a test must
 * see a broken stream, not paper over it) and the short-lived extra ones the arbitration checks
 * open with chosen election ids.
 */
import { P4Switch } from 'p4runtime-ts';
import type { P4SwitchOptions } from 'p4runtime-ts';
import type { ParsedHwTestOptions } from './options.js';

/** P4Switch options for a session with the target. */
export function switchOptions(o: ParsedHwTestOptions, electionId: bigint | undefined, connectTimeoutMs = o.connectTimeoutMs): P4SwitchOptions {
  return {
    address: o.target,
    deviceId: o.deviceId,
    ...(electionId !== undefined ? { electionId } : {}),
    credentials: o.credentials,
    connectTimeoutMs,
    reconnect: { enabled: false },
    onElectionIdConflict: 'fail',
    schema: o.schema,
    logger: o.logger,
  };
}

/** Opens a session; resolves once the target answered arbitration (primary or backup). */
export function connectSwitch(o: ParsedHwTestOptions, electionId: bigint | undefined, connectTimeoutMs?: number): Promise<P4Switch> {
  return P4Switch.connect(switchOptions(o, electionId, connectTimeoutMs));
}

/**
 * Error and status messages. Where the lab recorded BMv2's exact words (the `pi` dialect) the sim
 * says them word for word; otherwise (`spec`) it says what was wrong, the expected form and the fix.
 */

/** The words a profile uses for the answers the lab recorded. */
export interface Messages {
  notPrimary(detail: string): string;
  noPipeline(): string;
  electionIdExists(detail: string): string;
  newElectionIdExists(detail: string): string;
  tooManyConnections(limit: number): string;
  isPrimary(): string;
  isBackup(): string;
  noPrimary(): string;
  entryExists(detail: string): string;
  entryNotFound(detail: string): string;
  doesNotFit(width: number, detail: string): string;
  invalidId(detail: string): string;
  atomicUnimplemented(mode: string): string;
  registerReadUnimplemented(detail: string): string;
  registerWriteUnimplemented(detail: string): string;
  counterIndexBeyondSize(detail: string): string;
}

const SPEC: Messages = {
  notPrimary: (detail) => `Not primary: ${detail}`,
  noPipeline: () => 'No forwarding pipeline config set for this device; push one with SetForwardingPipelineConfig (VERIFY_AND_COMMIT) first',
  electionIdExists: (detail) => `Election id already exists: ${detail}`,
  newElectionIdExists: (detail) => `Election id already exists: ${detail}`,
  tooManyConnections: (limit) => `Too many connections: at most ${limit} controllers per (device, role)`,
  isPrimary: () => 'Is primary',
  isBackup: () => 'Is backup',
  noPrimary: () => 'No primary: no live controller holds the highest election id seen; send an arbitration update with an election id >= it',
  entryExists: (detail) => `Match entry exists: ${detail}; use MODIFY to change its action`,
  entryNotFound: (detail) => `Cannot find match entry: ${detail}`,
  doesNotFit: (width, detail) => `Bytestring provided does not fit within ${width} bits: ${detail}`,
  invalidId: (detail) => `Invalid P4 id: ${detail}`,
  atomicUnimplemented: (mode) => `Atomicity ${mode} is not supported by this target; use CONTINUE_ON_ERROR`,
  registerReadUnimplemented: (detail) => `Register reads are not supported by this target: ${detail}`,
  registerWriteUnimplemented: (detail) => `Register writes are not supported by this target: ${detail}`,
  counterIndexBeyondSize: (detail) => detail,
};

const PI: Messages = {
  notPrimary: () => 'Not primary',
  noPipeline: () => 'No forwarding pipeline config set for this device',
  electionIdExists: () => 'Election id already exists',
  newElectionIdExists: () => 'New election id already exists',
  tooManyConnections: () => 'Too many connections',
  isPrimary: () => 'Is primary',
  isBackup: () => 'Is backup',
  noPrimary: () => 'No primary',
  entryExists: () => 'Match entry exists, use MODIFY if you wish to change action',
  entryNotFound: () => 'Cannot find match entry',
  doesNotFit: (width) => `Bytestring provided does not fit within ${width} bits`,
  invalidId: () => 'Invalid P4 id',
  atomicUnimplemented: () => 'Support for atomic write modes has not been implemented yet',
  registerReadUnimplemented: () => 'Register reads are not supported yet',
  registerWriteUnimplemented: () => 'Register writes are not supported yet',
  counterIndexBeyondSize: () => 'Error when reading counter from target',
};

/** The message set of a dialect. */
export function messagesFor(dialect: 'spec' | 'pi'): Messages {
  return dialect === 'pi' ? PI : SPEC;
}

/**
 * Arbitration checks: we are primary; a second stream bidding with our election id is refused
 * (the spec: INVALID_ARGUMENT); a stream with a lower id is backup and its writes are refused
 * (PERMISSION_DENIED). Extra sessions are closed before the check returns.
 */
import type { P4Switch } from 'p4runtime-ts';
import { answerOf, fail, pass } from '../check-recorder.js';
import type { CheckOutcome } from '../check-recorder.js';
import { connectExtra } from '../connect.js';
import { deleteEntry } from '../fixture.js';
import type { HwTestSession } from '../session.js';

const EXTRA_SESSION_TIMEOUT_MS = 5000;

/** We hold the primary role. */
export async function checkPrimary(s: HwTestSession): Promise<CheckOutcome> {
  const a = s.sw.arbitration;
  if (a.kind === 'primary') return pass(`primary for device ${s.o.deviceId} with election id ${a.electionId}`);
  return fail(`not primary: arbitration state '${a.kind}'${a.kind === 'backup' ? ` (the primary holds election id ${a.primaryElectionId ?? 'none'})` : ''}; pass a higher --election-id`);
}

/** A second stream with our election id is refused, and we stay primary. */
export async function checkDuplicateElectionId(s: HwTestSession): Promise<CheckOutcome> {
  const id = s.sw.electionId;
  let dup: P4Switch | undefined;
  try {
    dup = await connectExtra(s.o, id, EXTRA_SESSION_TIMEOUT_MS);
  } catch (e) {
    const a = answerOf(e);
    if (!s.sw.isPrimary) return fail(`the duplicate bid was refused (${a.code}) but we lost the primary role`, a);
    if (a.code === 'INVALID_ARGUMENT') return pass(`a second stream bidding election id ${id} was refused; the first stays primary`, a);
    return fail(`a second stream bidding election id ${id} was refused with ${a.code}; the P4Runtime spec asks for INVALID_ARGUMENT`, a);
  }
  const state = dup.arbitration.kind;
  await dup.close();
  return fail(`a second stream bidding election id ${id} was accepted as ${state}; the spec asks the target to refuse it with INVALID_ARGUMENT`);
}

/** A lower election id is backup, and a write from it is refused. */
export async function checkBackupCannotWrite(s: HwTestSession): Promise<CheckOutcome> {
  const lower = s.sw.electionId - 1n;
  const b = await connectExtra(s.o, lower, EXTRA_SESSION_TIMEOUT_MS);
  try {
    const st = b.arbitration;
    if (st.kind !== 'backup') return fail(`a stream with the lower election id ${lower} is '${st.kind}', not backup`);
    const entry = { table: 'port_role', match: { port: s.o.fixture.sparePort } };
    try {
      await b.write(b.table(entry.table).insert({ match: entry.match, action: 'unknown_port' }));
    } catch (e) {
      const a = answerOf(e);
      if (a.code === 'PERMISSION_DENIED') return pass(`election id ${lower} is backup (primary ${st.primaryElectionId ?? 'unknown'}); its write was refused`, a);
      return fail(`election id ${lower} is backup, but its write was refused with ${a.code}; the spec asks for PERMISSION_DENIED`, a);
    }
    // The write went through: the undo takes it away again through the primary session.
    s.undo.add(`delete port_role entry port ${entry.match.port} written by the backup`, () => deleteEntry(s, entry));
    return fail(`a write from backup election id ${lower} was accepted; only the primary may write`);
  } finally {
    await b.close();
  }
}

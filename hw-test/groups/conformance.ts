/**
 * Group 1 — P4Runtime conformance for what carryover relies on, on the target's own tables:
 * Capabilities, arbitration, pipeline get/set with cookie, table writes with per-update errors,
 * counters, direct counters, digests, idle timeouts, packet I/O, and register access through
 * each path (P4Runtime RegisterEntry, in-band).
 */
import { fail, pass } from '../check-recorder.js';
import { checkBackupCannotWrite, checkDuplicateElectionId, checkPrimary } from '../checks/arbitration.js';
import { checkCounterModify, checkCounterRead, checkDirectCounter } from '../checks/counters.js';
import { checkPipelineGet, checkPipelineSet } from '../checks/pipeline.js';
import { checkInbandSlots, checkRegisterEntryRead, checkRegisterEntryWrite } from '../checks/registers.js';
import { checkDigest, checkIdleTimeout, checkPacketIo } from '../checks/stream.js';
import { checkDefaultActions, checkPerUpdateErrors, checkTableWriteRead, checkTernaryEntry } from '../checks/tables.js';
import type { HwTestGroup } from './group.js';

/** The conformance group. */
export const conformanceGroup: HwTestGroup = {
  id: 'conformance',
  title: '1. P4Runtime conformance',
  async run(s, rec) {
    await rec.check('capabilities', 'Capabilities', async () => {
      const v = await s.sw.capabilities();
      return v ? pass(`P4Runtime API version ${v}`) : fail('Capabilities returned an empty API version');
    });
    await rec.check('arbitration-primary', 'arbitration: primary', () => checkPrimary(s));
    await rec.check('arbitration-duplicate-id', 'arbitration: same election id refused', () => checkDuplicateElectionId(s));
    await rec.check('arbitration-backup', 'arbitration: lower id is backup, cannot write', () => checkBackupCannotWrite(s));
    await rec.check('pipeline-get', 'pipeline: get with cookie', () => checkPipelineGet(s));
    await rec.check('pipeline-set', 'pipeline: set, cookie round trip', () => checkPipelineSet(s));
    await rec.check('default-actions', "table: default actions are the P4 program's", () => checkDefaultActions(s));
    await rec.check('table-write-read', 'table: insert/read/modify/delete (dyn_acl)', () => checkTableWriteRead(s));
    await rec.check('table-update-errors', 'table: per-update errors (ALREADY_EXISTS, NOT_FOUND)', () => checkPerUpdateErrors(s));
    await rec.check('table-ternary', 'table: ternary entry with priority (static_acl)', () => checkTernaryEntry(s));
    await rec.check('counter-read', 'counter: read one cell and wildcard', () => checkCounterRead(s));
    await rec.check('counter-modify', 'counter: MODIFY and read back', () => checkCounterModify(s));
    await rec.check('direct-counter', 'direct counter (dyn_acl): write, read, count a hit', () => checkDirectCounter(s));
    await rec.check('digest', 'digest: configure, trigger by PacketOut, receive, ack', () => checkDigest(s));
    await rec.check('idle-timeout', 'idle timeout notification (dyn_acl)', () => checkIdleTimeout(s));
    await rec.check('packet-io', 'packet I/O: PacketOut in, PacketIn out (READ_EPOCH)', () => checkPacketIo(s));
    await rec.check('register-entry-read', 'registers: P4Runtime RegisterEntry read', () => checkRegisterEntryRead(s));
    await rec.check('register-entry-write', 'registers: P4Runtime RegisterEntry write', () => checkRegisterEntryWrite(s));
    await rec.check('inband-slot', 'registers: in-band slot read/write', () => checkInbandSlots(s));
  },
};

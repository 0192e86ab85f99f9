/**
 * Register access through each path the target may offer: P4Runtime RegisterEntry reads (one
 * cell, wildcard) and MODIFY writes — answered UNIMPLEMENTED by BMv2, which is UNSUPPORTED on the
 * bmv2 profile and a FAIL elsewhere — and the pipeline's in-band READ_SLOT / WRITE_SLOT. Whatever
 * is written is put back before the check returns.
 */
import { INBAND_OP, INBAND_STATUS } from '../../plugin/index.js';
import { answerOf, fail, pass, unsupported } from '../check-recorder.js';
import type { CheckOutcome, TargetAnswer } from '../check-recorder.js';
import type { HwTestSession } from '../session.js';

/** The group's epoch register and dirty bitmap (the cells these checks touch). */
function dirtySpec(s: HwTestSession): NonNullable<HwTestSession['group']['dirty']> {
  const d = s.group.dirty;
  if (!d) throw new Error(`slot group '${s.group.name}' has no dirty bitmap (@migrate_dirty); hw-test needs its epoch register`);
  return d;
}

/** UNSUPPORTED when the profile predicts RegisterEntry is not served and the target said UNIMPLEMENTED; else FAIL. */
function notServed(s: HwTestSession, what: string, a: TargetAnswer): CheckOutcome {
  if (s.profile.registerEntries === 'unimplemented' && a.code === 'UNIMPLEMENTED') {
    return unsupported(`${what}: not served by ${s.profile.describes} (profile ${s.profile.name}); carryover uses in-band access there`, a);
  }
  return fail(`${what} failed with ${a.code}; profile ${s.profile.name} expects RegisterEntry to be served`, a);
}

/** RegisterEntry read of one cell and a wildcard read of a whole register. */
export async function checkRegisterEntryRead(s: HwTestSession): Promise<CheckOutcome> {
  const d = dirtySpec(s);
  try {
    const one = await s.sw.readAll(s.sw.register(d.epochRegister).at(0));
    if (one.length !== 1) return fail(`reading ${d.epochRegister}[0] returned ${one.length} cells; expected 1`);
    let n = 0;
    for await (const c of s.sw.read(s.sw.register(d.register).all())) if (c.index >= 0) n++;
    if (n !== d.words) return fail(`a wildcard read of ${d.register} returned ${n} cells; the register has ${d.words}`);
    return pass(`${d.epochRegister}[0] = ${one[0]?.value ?? 0n}; wildcard read of ${d.register} returned all ${d.words} cells`);
  } catch (e) {
    return notServed(s, 'RegisterEntry read', answerOf(e));
  }
}

/** RegisterEntry MODIFY of the epoch, seen by RegisterEntry and in-band reads, then restored. */
export async function checkRegisterEntryWrite(s: HwTestSession): Promise<CheckOutcome> {
  const d = dirtySpec(s);
  const reg = s.sw.register(d.epochRegister);
  const before = (await s.rawRequest(INBAND_OP.READ_EPOCH)).answer.words[0] ?? 0n;
  const next = (before + 1n) % (1n << BigInt(d.epochBits));
  const undo = s.undo.add(`restore ${d.epochRegister}[0] to ${before}`, () => s.sw.write(reg.modify(0, before)));
  try {
    await s.sw.write(reg.modify(0, next));
  } catch (e) {
    undo.release();
    return notServed(s, 'RegisterEntry MODIFY', answerOf(e));
  }
  const viaP4rt = (await s.sw.readAll(reg.at(0)))[0]?.value;
  const viaInband = (await s.rawRequest(INBAND_OP.READ_EPOCH)).answer.words[0];
  await undo.revert();
  const restored = (await s.rawRequest(INBAND_OP.READ_EPOCH)).answer.words[0];
  if (viaP4rt !== next) return fail(`wrote ${d.epochRegister}[0] = ${next}, a RegisterEntry read returned ${viaP4rt}`);
  if (viaInband !== next) return fail(`wrote ${d.epochRegister}[0] = ${next} over P4Runtime, the pipeline (in-band READ_EPOCH) sees ${viaInband}`);
  if (restored !== before) return fail(`restoring ${d.epochRegister}[0] to ${before} left ${restored}`);
  return pass(`${d.epochRegister}[0] ${before} → ${next} by MODIFY, read back over RegisterEntry and in-band; restored to ${before}`);
}

/** In-band WRITE_SLOT / READ_SLOT of one free slot, restored; READ_SLOT past the end is BAD_INDEX. */
export async function checkInbandSlots(s: HwTestSession): Promise<CheckOutcome> {
  const g = s.group;
  const io = s.inband();
  let slot = g.slots - 1;
  let was: readonly bigint[] = [];
  for (; slot > g.slots - 64; slot--) {
    was = (await io.readSlots({ indices: [slot] }))[0]?.words ?? [];
    if (was.every((w) => w === 0n)) break;
  }
  const pattern = g.words.map((w, i) => (0x0102030405060708n * BigInt(i + 1)) & ((1n << BigInt(w.bits)) - 1n));
  const undo = s.undo.add(`restore slot ${slot} of group '${g.name}'`, () => io.writeSlots([{ index: slot, words: g.words.map((_, i) => was[i] ?? 0n) }]));
  await io.writeSlots([{ index: slot, words: pattern }]);
  const back = (await io.readSlots({ indices: [slot] }))[0]?.words ?? [];
  await undo.revert();
  const restored = (await io.readSlots({ indices: [slot] }))[0]?.words ?? [];
  const bad = g.words.filter((w, i) => back[i] !== pattern[i]).map((w) => `${w.register}: wrote 0x${(pattern[w.index] ?? 0n).toString(16)}, read 0x${(back[w.index] ?? 0n).toString(16)}`);
  if (bad.length > 0) return fail(`WRITE_SLOT then READ_SLOT of slot ${slot} disagree: ${bad.join('; ')}`);
  if (g.words.some((_, i) => (restored[i] ?? 0n) !== (was[i] ?? 0n))) return fail(`restoring slot ${slot} did not bring back its old words`);
  const past = (await s.rawRequest(INBAND_OP.READ_SLOT, g.slots)).answer;
  if (past.status !== INBAND_STATUS.BAD_INDEX) return fail(`READ_SLOT of index ${g.slots} (one past the last slot) answered status ${past.status}; expected ${INBAND_STATUS.BAD_INDEX} (BAD_INDEX)`);
  return pass(`WRITE_SLOT of all ${g.words.length} words of slot ${slot}, READ_SLOT back equal (cut to register widths), restored; READ_SLOT ${g.slots} → BAD_INDEX`);
}

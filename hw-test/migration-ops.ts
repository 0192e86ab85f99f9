/**
 * The migration ops of issue 11 through one register-access backend, on a slot nothing uses:
 * conditional write and clear (never overwrite or clear another flow, idempotent on retry),
 * the conditional tracker flip, and the clock read — each against the contract's semantics.
 */
import { EdgePluginError, encodeSlotWords } from '../plugin/index.js';
import type { RegisterAccess } from '../plugin/index.js';
import { fail, pass } from './check-recorder.js';
import type { CheckOutcome } from './check-recorder.js';
import type { HwTestSession } from './session.js';

const same = (a: readonly bigint[] | undefined, b: readonly bigint[]): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs the ops through `access`; the slot used is empty before and after. */
export async function checkMigrationOps(s: HwTestSession, access: RegisterAccess): Promise<CheckOutcome> {
  const g = s.group;
  const problems: string[] = [];
  let slot = g.slots - 1;
  while (slot > g.slots - 64 && (await access.readSlots({ indices: [slot] }, { occupiedOnly: true })).length > 0) slot--;
  s.undo.add(`clear spare slot ${slot} used by the migration-ops check`, async () => {
    await access.writeSlots([{ index: slot, words: g.words.map(() => 0n) }]);
  });
  const flow = (vmId: number, port: number): bigint[] =>
    encodeSlotWords(g, { vm_addr: 0x0a0000fan, remote_addr: 0xc6336409n, vm_port: BigInt(port), remote_port: 443n, protocol: 6n, vm_id: BigInt(vmId), state: 3n, ws_out: 15n, ws_in: 15n });
  const mine = flow(9, 40_001);
  const other = flow(10, 40_002);

  const [w1] = await access.writeSlotsIf([{ index: slot, words: mine }]);
  if (!w1?.applied || !same(w1.words, mine)) problems.push(`WRITE_IF on an empty slot: applied ${String(w1?.applied)}, answered ${w1?.words.join(',')}`);
  const [w2] = await access.writeSlotsIf([{ index: slot, words: mine }]);
  if (!w2?.applied) problems.push('WRITE_IF retried with the same key was refused');
  const [w3] = await access.writeSlotsIf([{ index: slot, words: other }]);
  if (w3?.applied || !same(w3?.words, mine)) problems.push(`WRITE_IF of another key over a live flow: applied ${String(w3?.applied)} (must be refused, answering the live flow)`);
  const [c1] = await access.clearSlotsIf([{ index: slot, words: flow(10, 40_001) }]);
  if (c1?.applied) problems.push('CLEAR_IF with the right key but another VM cleared the slot');
  const [c2] = await access.clearSlotsIf([{ index: slot, words: mine }]);
  if (!c2?.applied || !same(c2.words, mine)) problems.push(`CLEAR_IF of the VM's own flow: applied ${String(c2?.applied)}, answered ${c2?.words.join(',')}`);
  const [c3] = await access.clearSlotsIf([{ index: slot, words: mine }]);
  if (c3?.applied || !c3?.words.every((w) => w === 0n)) problems.push('CLEAR_IF retried: must find the slot empty and clear nothing');

  const trackers = access.capabilities().trackers;
  if (trackers > 0) {
    const t = trackers - 1;
    const now = await access.readTracker(t);
    const flipped = await access.flipTracker(t, now.epoch);
    if (flipped.epoch !== (now.epoch + 1n) % (1n << 32n) || flipped.start !== flipped.head) problems.push(`tracker ${t} flip from ${now.epoch}: got epoch ${flipped.epoch}, start ${flipped.start}, head ${flipped.head}`);
    const again = await access.flipTracker(t, now.epoch);
    if (again.epoch !== flipped.epoch) problems.push(`a retried flip moved tracker ${t} again (epoch ${again.epoch})`);
    const stale = await access.flipTracker(t, (now.epoch + 7n) % (1n << 32n)).then(() => 'accepted', (e: unknown) => (e instanceof EdgePluginError ? e.code : String(e)));
    if (stale !== 'STATE_CONFLICT') problems.push(`a flip from a stale epoch: ${stale} (expected STATE_CONFLICT)`);
  }

  let clock = '';
  if (access.capabilities().conditional === 'inband') {
    const a = await access.readClock();
    const b = await access.readClock();
    if (b < a) problems.push(`the clock went backwards: ${a} then ${b}`);
    clock = `, clock ${a} → ${b}`;
  }
  if (problems.length > 0) return fail(`${problems.length} migration op(s) misbehaved on slot ${slot}`, { code: '-', message: '' }, problems);
  return pass(`WRITE_IF / CLEAR_IF (${access.capabilities().conditional}) on slot ${slot}, tracker flip (${trackers} trackers)${clock}: as the contract says`);
}

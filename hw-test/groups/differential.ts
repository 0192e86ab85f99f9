/**
 * Group 2 — pipeline behaviour, differential: the workload goes through the target (PacketOut,
 * op INJECT) and through the reference model from the same starting state; the conntrack slots,
 * the dirty bitmap and the counters must come out the same, slot by slot and cell by cell.
 */
import { slotsOfDirtyWord } from '../../plugin/index.js';
import { dropReasonName } from '../../sim/programs/stateful-edge/index.js';
import { fail, pass } from '../check-recorder.js';
import { compareSlots, formatSlotMismatches } from '../slot-diff.js';
import { runWorkload } from '../workload-run.js';
import type { WorkloadRun } from '../workload-run.js';
import type { HwTestGroup } from './group.js';

function summarizeEgress(egress: Readonly<Record<string, number>>): string {
  return Object.entries(egress)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/** The differential group. */
export const differentialGroup: HwTestGroup = {
  id: 'differential',
  title: '2. Pipeline behaviour (differential against the model)',
  async run(s, rec) {
    let run: WorkloadRun | undefined;
    // Against the sim the reference is the target's own model: a self-check of the harness.
    const self = s.o.selfCheck ? 'self-check (the target is the sim, whose own model is the reference): ' : '';
    const injected = await rec.check('inject-workload', 'workload injected through PacketOut', async () => {
      run = await runWorkload(s);
      const tcp = run.flows.filter((f) => f.protocol === 6).length;
      const hard = run.flows.filter((f) => f.hardCase !== undefined).length;
      return pass(
        `${self}${run.flows.length} flows (${tcp} TCP of which ${hard} hard-traffic, ${run.flows.length - tcp} UDP), ${run.packets} packets injected in ${run.timings.injectMs.toFixed(0)} ms; ` +
          `state read through ${run.readers} in ${run.timings.readMs.toFixed(0)} ms; the model: ${summarizeEgress(run.egress)}`,
      );
    });
    const r = run;
    if (!r) {
      for (const [id, name] of [['conntrack-slots', 'conntrack slots equal the model'], ['dirty-bitmap', 'dirty bitmap equals the model'], ['change-logs', 'change logs equal the model'], ['counters', 'counters equal the model']] as const) {
        rec.record(id, name, fail(`not compared: the workload did not run (${injected.detail})`));
      }
      return;
    }
    const g = s.group;
    await rec.check('conntrack-slots', 'conntrack slots equal the model', async () => {
      const m = compareSlots(g, r.slots, r.model, r.target);
      const occupied = r.slots.filter((i) => (r.target.get(i)?.some((w) => w !== 0n) ?? false)).length;
      const clock = g.clock ? `; ${g.clock.field.name} compared for presence only (each side has its own clock)` : '';
      if (m.length === 0) return pass(`${self}${r.slots.length} slots compared (every candidate of every TCP flow${r.extraSlots.length > 0 ? ` and ${r.extraSlots.length} more` : ''}; ${occupied} occupied): all equal${clock}`);
      return fail(`${m.length} of ${r.slots.length} slots differ between the model and the target${clock}`, { code: '-', message: '' }, formatSlotMismatches(g, m, s.o.maxDiffs));
    });
    await rec.check('dirty-bitmap', 'dirty bitmap equals the model', async () => {
      const d = g.dirty;
      if (!d) return fail(`slot group '${g.name}' has no dirty bitmap`);
      const lines: string[] = [];
      let differing = 0;
      for (const w of r.dirtyWords) {
        const want = r.dirtyModel.get(w) ?? r.dirtyBefore.get(w) ?? 0n;
        const got = r.dirtyTarget.get(w) ?? 0n;
        if (want === got) continue;
        differing++;
        if (lines.length < s.o.maxDiffs) lines.push(`${d.register}[${w}]: model marks slots [${slotsOfDirtyWord(d, w, want).join(', ')}], target marks [${slotsOfDirtyWord(d, w, got).join(', ')}]`);
      }
      if (differing > s.o.maxDiffs) lines.push(`… and ${differing - s.o.maxDiffs} more word(s) differ`);
      if (differing === 0) return pass(`${self}${r.dirtyWords.length} changed words of buffer ${r.buffer} (epoch ${r.epoch}) equal`);
      return fail(`${differing} of ${r.dirtyWords.length} dirty words differ`, { code: '-', message: '' }, lines);
    });
    await rec.check('change-logs', 'change logs equal the model', async () => {
      if (!g.changeLog) return fail(`slot group '${g.name}' has no change logs (@migrate_changelog)`);
      const lines: string[] = [];
      r.logsModel.forEach((want, t) => {
        const got = r.logsTarget[t]?.slots;
        if (!got) lines.push(`tracker ${t}: the target's ring overflowed during the run (model logged ${want.length})`);
        else if (got.join(',') !== want.join(',')) lines.push(`tracker ${t}: model logged ${want.length} slots [${want.slice(0, 8).join(', ')}${want.length > 8 ? ', …' : ''}], target ${got.length} [${got.slice(0, 8).join(', ')}${got.length > 8 ? ', …' : ''}]`);
        // Numbered changes (the delta digests' `change`): the target counts every change as the model does.
        const counted = r.changesModel[t];
        const targetCounted = r.logsTarget[t]?.changes;
        if (counted !== undefined && targetCounted !== counted) lines.push(`tracker ${t}: model counted ${counted} changes, target ${targetCounted ?? 'no count (its tracker read answered none)'}`);
      });
      const total = r.logsModel.reduce((n, l) => n + l.length, 0);
      const changes = r.changesModel.reduce<bigint>((n, c) => n + (c ?? 0n), 0n);
      const counts = r.changesModel.some((c) => c !== undefined) ? `, ${changes} numbered changes` : '';
      if (lines.length === 0) return pass(`${self}${r.logsModel.length} trackers, ${total} log entries${counts}: the same slots in the same order`);
      return fail(`${lines.length} of ${r.logsModel.length} trackers' logs differ`, { code: '-', message: '' }, lines.slice(0, s.o.maxDiffs));
    });
    await rec.check('counters', 'counters equal the model', async () => {
      const bad = r.counters.filter((c) => c.model.packets !== c.target.packets || c.model.bytes !== c.target.bytes);
      const lines = bad.slice(0, s.o.maxDiffs).map((c) => `${c.counter}[${c.index}]: model +${c.model.packets} packets / +${c.model.bytes} bytes, target +${c.target.packets} / +${c.target.bytes}`);
      if (bad.length > s.o.maxDiffs) lines.push(`… and ${bad.length - s.o.maxDiffs} more cell(s) differ`);
      const moved = r.counters.filter((c) => c.target.packets !== 0n).length;
      const drops = r.counters.filter((c) => c.counter === 'drops' && c.target.packets !== 0n).map((c) => `${dropReasonName(c.index)} ${c.target.packets}`);
      if (bad.length === 0) return pass(`${self}${r.counters.length} cells compared (${moved} moved): every change equals the model's; drops by reason: ${drops.join(', ') || 'none'}`);
      return fail(`${bad.length} of ${r.counters.length} counter cells changed differently`, { code: '-', message: '' }, lines);
    });
  },
};

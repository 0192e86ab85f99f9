/**
 * Group 4 — state access: the plugin's probe picks the backend the profile predicts, and the
 * plugin reads each workload VM's state (`readVmState`) through every register-access backend the
 * target offers; each result must equal the model, and the backends must equal each other.
 */
import { systemClock } from 'p4runtime-ts';
import { chooseRegisterAccess, encodeSlotWords, fieldValue, parseInbandOptions, readVmState } from '../../plugin/index.js';
import type { RegisterAccess, VmState } from '../../plugin/index.js';
import { fail, pass, unsupported } from '../check-recorder.js';
import type { CheckOutcome } from '../check-recorder.js';
import type { HwTestSession } from '../session.js';
import { compareSlots, formatSlotMismatches } from '../slot-diff.js';
import { runWorkload } from '../workload-run.js';
import type { WorkloadRun } from '../workload-run.js';
import type { HwTestGroup } from './group.js';
import { checkMigrationOps } from '../migration-ops.js';

type Kind = 'p4runtime' | 'inband';

/** Every fixture VM's state read through one backend, over the workload's slots. */
async function readAll(s: HwTestSession, access: RegisterAccess, r: WorkloadRun): Promise<VmState[]> {
  const out: VmState[] = [];
  for (const vm of s.o.fixture.vms) out.push(await readVmState({ sw: s.sw, contract: s.contract, group: s.group, access }, vm.addr, { slots: { indices: r.slots } }));
  return out;
}

/** VM states as slot → words. */
function slotMap(s: HwTestSession, states: readonly VmState[]): Map<number, readonly bigint[]> {
  return new Map(states.flatMap((st) => st.slots.map((x) => [x.slot, encodeSlotWords(s.group, x.fields)] as const)));
}

/** The model's slots of the fixture's VMs. */
function modelVmSlots(s: HwTestSession, r: WorkloadRun): Map<number, readonly bigint[]> {
  const ids = new Set(s.o.fixture.vms.map((vm) => BigInt(vm.vmId)));
  const out = new Map<number, readonly bigint[]>();
  for (const [slot, w] of r.model) if (fieldValue(w, s.group.valid) !== 0n && ids.has(fieldValue(w, s.group.vm))) out.set(slot, w);
  return out;
}

const stringify = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** The state access group. */
export const stateAccessGroup: HwTestGroup = {
  id: 'state-access',
  title: '4. State access (the plugin, through every backend)',
  async run(s, rec) {
    await rec.check('probe', "the plugin's probe picks the expected backend", async () => {
      const access = await chooseRegisterAccess({
        sw: s.sw,
        contract: s.contract,
        group: s.group,
        mode: 'probe',
        inband: parseInbandOptions({ window: s.o.inbandWindow, timeoutMs: s.o.inbandTimeoutMs }),
        clock: systemClock,
        logger: s.o.logger,
      });
      const caps = access.capabilities();
      access.close();
      if (caps.backend === s.profile.probedBackend) return pass(`${caps.backend}: ${caps.reason}`);
      return fail(`the probe picked ${caps.backend} (${caps.reason}); profile ${s.profile.name} predicts ${s.profile.probedBackend}`);
    });

    const read = new Map<Kind, VmState[]>();
    const backends: readonly { kind: Kind; name: string; available: () => Promise<{ available: boolean; detail: string; answer?: { code: string; message: string } }>; access: () => RegisterAccess }[] = [
      { kind: 'p4runtime', name: 'P4Runtime RegisterEntry', available: () => s.probeRegisterEntries(), access: () => s.p4runtime() },
      { kind: 'inband', name: 'in-band (PacketOut/PacketIn)', available: () => s.probeInband(), access: () => s.inband() },
    ];
    for (const b of backends) {
      await rec.check(`backend-${b.kind}`, `VM state through ${b.name} equals the model`, async (): Promise<CheckOutcome> => {
        const probe = await b.available();
        if (!probe.available) {
          const a = probe.answer ?? { code: '-', message: '' };
          if (b.kind === 'p4runtime' && s.profile.registerEntries === 'unimplemented' && a.code === 'UNIMPLEMENTED') {
            return unsupported(`the target does not offer this backend (${probe.detail}), as profile ${s.profile.name} predicts`, a);
          }
          return fail(`the backend is not available: ${probe.detail}`, a);
        }
        const r = await runWorkload(s);
        const states = await readAll(s, b.access(), r);
        read.set(b.kind, states);
        const got = slotMap(s, states);
        const want = modelVmSlots(s, r);
        const slots = [...new Set([...got.keys(), ...want.keys()])].sort((x, y) => x - y);
        const m = compareSlots(s.group, slots, want, got);
        const n = states.reduce((k, st) => k + st.slots.length, 0);
        if (m.length === 0) return pass(`${states.length} VMs, ${n} slots (of ${r.slots.length} looked at) read through ${b.kind}: equal to the model`);
        return fail(`${m.length} slots differ between the model and the ${b.kind} backend`, { code: '-', message: '' }, formatSlotMismatches(s.group, m, s.o.maxDiffs, { expected: 'model', actual: b.kind }));
      });
    }

    for (const b of backends) {
      await rec.check(`migration-ops-${b.kind}`, `conditional slot ops, tracker flip and clock through ${b.name}`, async (): Promise<CheckOutcome> => {
        const probe = await b.available();
        if (!probe.available) {
          const a = probe.answer ?? { code: '-', message: '' };
          if (b.kind === 'p4runtime' && s.profile.registerEntries === 'unimplemented' && a.code === 'UNIMPLEMENTED') return unsupported(`the target does not offer this backend (${probe.detail})`, a);
          return fail(`the backend is not available: ${probe.detail}`, a);
        }
        return checkMigrationOps(s, b.access());
      });
    }

    await rec.check('backends-agree', 'the backends agree with each other', async () => {
      const a = read.get('p4runtime');
      const b = read.get('inband');
      if (!a || !b) {
        const only = a ? 'P4Runtime RegisterEntry' : b ? 'in-band' : 'no';
        return unsupported(`only the ${only} backend read the state on this target; nothing to compare`);
      }
      const m = compareSlots(s.group, [...new Set([...slotMap(s, a).keys(), ...slotMap(s, b).keys()])].sort((x, y) => x - y), slotMap(s, a), slotMap(s, b));
      const lines = formatSlotMismatches(s.group, m, s.o.maxDiffs, { expected: 'p4runtime', actual: 'inband' });
      // Tables and counters are P4Runtime reads in both; they must match too.
      a.forEach((st, i) => {
        const other = b[i];
        if (stringify(st.counters) !== stringify(other?.counters)) lines.push(`vm ${st.vmId}: counters differ: ${stringify(st.counters)} vs ${stringify(other?.counters)}`);
        if (stringify(st.tableEntries) !== stringify(other?.tableEntries)) lines.push(`vm ${st.vmId}: table entries differ`);
      });
      if (lines.length === 0) return pass(`slots, table entries and counters of ${a.length} VMs identical through both backends`);
      return fail('the two backends read different state', { code: '-', message: '' }, lines);
    });
  },
};

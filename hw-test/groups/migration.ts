/**
 * Group 5 — migration between two switches (`--peer HOST:PORT`): the controller's engine moves a
 * VM's flows from the target to the peer while its traffic runs, and the group checks what a lab
 * must see — every flow at the peer as the target held it at the freeze (its VM id remapped, its
 * clock rebased), the per-VM counters conserved, the target cleaned and dropping the flows'
 * packets while the peer admits them; then a move back rolled back after activation (the peer
 * still authoritative, the target clean), and the move back committed (the round trip). Each
 * check depends on the ones before it: after a failure the rest are reported as not run.
 */
import { dataSegmentFrame, inboundSegmentFrame } from '../../sim/workload/index.js';
import { fail, pass } from '../check-recorder.js';
import type { CheckOutcome, GroupRecorder } from '../check-recorder.js';
import { describeMove, moveVm } from '../migration-moves.js';
import type { MoveResult } from '../migration-moves.js';
import { establish, heldFlows, injectAt, migrationFlowVm, prepareSide, releaseSide, vmCounters } from '../migration-setup.js';
import type { HeldFlow, MigrationSide } from '../migration-setup.js';
import type { HwTestSession } from '../session.js';
import type { HwTestGroup } from './group.js';

type Counters = Awaited<ReturnType<typeof vmCounters>>;

/** The group's checks in order: id and name. */
const CHECKS = [
  ['setup', 'both switches ready: the VM on each, plugins on hw-test\'s sessions, flows open at the target'],
  ['commit', 'a move to the peer commits (pre-copy under traffic, pause-window sync, activation, source deleted)'],
  ['flows-moved', 'the peer holds every flow as the target held it at the freeze'],
  ['counters-conserved', 'the per-VM counters are conserved'],
  ['source-cleaned', 'the target holds nothing of the VM after the commit'],
  ['traffic-after', 'the flows\' packets pass at the peer and are dropped at the target'],
  ['rollback', 'a move back rolled back after activation: the target clean, the peer unchanged and admitting'],
  ['round-trip', 'the move back commits: every flow and counter at the target again, the peer cleaned'],
] as const;
type CheckId = (typeof CHECKS)[number][0];

/** Runs the group's checks in order; once one fails, the rest are recorded as not run. */
class Chain {
  private broken: string | undefined;
  constructor(private readonly rec: GroupRecorder) {}

  async step(id: CheckId, fn: () => Promise<CheckOutcome>): Promise<void> {
    const name = CHECKS.find((c) => c[0] === id)?.[1] ?? id;
    if (this.broken !== undefined) {
      this.rec.record(id, name, fail(`not run: ${this.broken} failed`));
      return;
    }
    const r = await this.rec.check(id, name, fn);
    if (r.status !== 'PASS') this.broken = id;
  }

  /** Records every check after `id` as not run (the chain is broken). */
  rest(after: CheckId): void {
    for (const [id, name] of CHECKS.slice(CHECKS.findIndex((c) => c[0] === after) + 1)) this.rec.record(id, name, fail(`not run: ${this.broken ?? after} failed`));
  }
}

/** Differences between two views of the VM's flows, fields `skip` aside (the VM id, the clock field). */
function flowDiffs(expected: ReadonlyMap<number, HeldFlow>, got: ReadonlyMap<number, HeldFlow>, skip: readonly string[], names: [string, string], max: number): string[] {
  const out: string[] = [];
  for (const [i, e] of expected) {
    const g = got.get(i);
    if (!g) {
      out.push(`flow ${i}: held at the ${names[0]} (slot ${e.slot}), missing at the ${names[1]}`);
      continue;
    }
    for (const [f, v] of Object.entries(e.fields)) if (!skip.includes(f) && g.fields[f] !== v) out.push(`flow ${i} field ${f}: ${names[0]} ${v}, ${names[1]} ${String(g.fields[f])}`);
  }
  for (const i of got.keys()) if (!expected.has(i)) out.push(`flow ${i}: at the ${names[1]} but not at the ${names[0]}`);
  return out.length > max ? [...out.slice(0, max), `… and ${out.length - max} more`] : out;
}

/** Counter cells `after` must equal `before` plus `moved`. */
function counterDiffs(before: Counters, moved: Counters, after: Counters): string[] {
  const out: string[] = [];
  for (const [name, m] of moved) {
    const b = before.get(name) ?? { packets: 0n, bytes: 0n };
    const a = after.get(name) ?? { packets: 0n, bytes: 0n };
    if (a.packets !== b.packets + m.packets || a.bytes !== b.bytes + m.bytes) out.push(`${name}: ${a.packets} packets / ${a.bytes} bytes, expected ${b.packets} + ${m.packets} / ${b.bytes} + ${m.bytes}`);
  }
  return out;
}

const counterText = (c: Counters): string => [...c].map(([n, v]) => `${n} ${v.packets}/${v.bytes}`).join(', ');
const isZero = (c: Counters): boolean => [...c.values()].every((v) => v.packets === 0n && v.bytes === 0n);

/** Packets the VM's per-VM counters counted at a side: an inbound segment that passes adds one, a dropped one none. */
async function received(side: MigrationSide): Promise<bigint> {
  let n = 0n;
  for (const c of (await vmCounters(side)).values()) n += c.packets;
  return n;
}

/** Sends the remote hosts' `n`-th segment of each flow at `side`; resolves with how many the VM received. */
async function inbound(side: MigrationSide, flows: readonly number[], n: number): Promise<number> {
  const before = await received(side);
  const v = migrationFlowVm(side.s);
  await injectAt(side, flows.map((i) => inboundSegmentFrame(v, i, n, side.s.o.fixture.uplinkPort)));
  return Number((await received(side)) - before);
}

/** Slots the side's plugin knows to be taken (its slot index, learned from digests). */
async function indexed(side: MigrationSide): Promise<number> {
  const caps = await side.api.capabilities();
  return caps.slots.total - caps.slots.free;
}

/** After a move from `source` rolled back: the source must hold what it held at the freeze and admit it, the destination nothing. */
async function afterRollback(source: MigrationSide, dest: MigrationSide, c: Carried): Promise<string> {
  const n = source.s.o.migrationFlows;
  const held = await heldFlows(source, n);
  const left = (await heldFlows(dest, n)).size;
  const passed = await inbound(source, c.flows, 0);
  // Frozen, the source's flows must be exactly as at the freeze; a move that failed before the
  // freeze left them running, so only their presence can be compared.
  const frozen = c.frozen.size > 0;
  const problems = frozen ? flowDiffs(c.frozen, held, [], ['source at the freeze', 'source after'], source.s.o.maxDiffs) : held.size === c.flows.length ? [] : [`the ${source.role} holds ${held.size} of its ${c.flows.length} flows`];
  if (left > 0) problems.push(`the ${dest.role} still holds ${left} flow(s)`);
  if (passed !== c.flows.length) problems.push(`the ${source.role} admitted ${passed} of ${c.flows.length} inbound segments`);
  return problems.length === 0
    ? `after the rollback the ${source.role} holds its ${c.flows.length} flows ${frozen ? 'as at the freeze ' : ''}and admits their traffic, the ${dest.role} holds none`
    : `after the rollback: ${problems.join('; ')}`;
}

/** Polls `ok` every 20 ms until it holds or `timeoutMs` has passed. */
async function until(ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** What the checks carry from one to the next. */
interface Carried {
  flows: number[];
  frozen: Map<number, HeldFlow>;
  frozenCounters: Counters;
  destBefore: Counters;
  move: MoveResult | undefined;
  /** The VM's next data segment number (each move's traffic continues the flows' sequence). */
  segment: number;
}

/**
 * Opens the VM's flows at the target and waits until the target's plugin knows them all; returns
 * the flows the target holds, or a FAIL.
 */
async function openFlows(s: HwTestSession, target: MigrationSide): Promise<number[] | CheckOutcome> {
  const o = s.o;
  await establish(target, o.migrationFlows);
  const flows = [...(await heldFlows(target, o.migrationFlows)).keys()].sort((a, b) => a - b);
  if (flows.length === 0) return fail(`none of ${o.migrationFlows} flows opened by PacketOut is held at the target (VM ${target.vmId}, ${o.fixture.migrationVm.addr} on port ${o.fixture.migrationVm.port})`);
  // The source's slot index learns the flows from the switch's delta digests.
  let known = 0;
  await until(async () => (known = await indexed(target)) >= flows.length, Math.max(5_000, o.digestWaitMs * 3));
  if (known < flows.length) return fail(`the target's delta digests told its plugin of ${known} of the ${flows.length} flows held; a snapshot would miss the rest`);
  return flows;
}

async function runChecks(s: HwTestSession, chain: Chain, target: MigrationSide, peer: MigrationSide, flows: number[]): Promise<void> {
  const o = s.o;
  const g = s.group;
  const skip = [g.vm.name, ...(g.clock ? [g.clock.field.name] : [])];
  const c: Carried = { flows, frozen: new Map(), frozenCounters: new Map(), destBefore: new Map(), move: undefined, segment: 0 };

  // A move from `from` to `to`, the source's flows and counters read once its traffic stopped.
  const move = async (from: MigrationSide, to: MigrationSide, traffic: boolean, rollBack = false): Promise<MoveResult> => {
    const v = migrationFlowVm(s);
    const changing = c.flows.filter((_, k) => k % 2 === 0);
    return moveVm(from, to, {
      ...(traffic
        ? {
            // Two waves of data on every other flow while pre-copy runs: changes its delta rounds carry.
            duringPrecopy: async (progress) => {
              for (let wave = 0; wave < 2; wave++) {
                // Each wave once the round before it is recorded: a large snapshot takes a while,
                // and a wave sent into it would reach the destination with the snapshot, not as a delta.
                await until(async () => (await progress.rounds()) > wave, 60_000);
                const n = c.segment++;
                await injectAt(from, changing.map((i) => dataSegmentFrame(v, i, n)));
                await new Promise((r) => setTimeout(r, 100));
              }
            },
          }
        : {}),
      beforePause: async () => {
        // A last wave after pre-copy stopped: changes only the pause-window sync can carry.
        if (traffic) {
          const n = c.segment++;
          await injectAt(from, changing.map((i) => dataSegmentFrame(v, i, n)));
        }
        c.frozen = await heldFlows(from, o.migrationFlows);
        c.frozenCounters = await vmCounters(from);
        c.destBefore = await vmCounters(to);
      },
      rollBackAfterActivation: rollBack,
    });
  };
  const moved = (to: MigrationSide, what: string): Promise<CheckOutcome> =>
    heldFlows(to, o.migrationFlows).then((got) => {
      const diffs = flowDiffs(c.frozen, got, skip, [what === 'peer' ? 'target' : 'peer', what], o.maxDiffs);
      const wrongId = [...got].filter(([, f]) => f.fields[g.vm.name] !== BigInt(to.vmId)).length;
      if (diffs.length > 0 || wrongId > 0) return fail(`${diffs.length} difference(s) between the ${c.frozen.size} flows frozen and the ${got.size} at the ${what}${wrongId > 0 ? `; ${wrongId} with a VM id other than ${to.vmId}` : ''}`, undefined, diffs);
      return pass(`${got.size} flows at the ${what}, field for field as frozen (VM id remapped to ${to.vmId}${g.clock ? `, ${g.clock.field.name} rebased to its clock` : ''})`);
    });

  await chain.step('commit', async () => {
    c.move = await move(target, peer, true);
    if (c.move.committed) return pass(describeMove(c.move));
    return fail(`${describeMove(c.move)}; ${await afterRollback(target, peer, c)}`);
  });
  await chain.step('flows-moved', () => moved(peer, 'peer'));
  await chain.step('counters-conserved', async () => {
    const diffs = counterDiffs(c.destBefore, c.frozenCounters, await vmCounters(peer));
    return diffs.length === 0 ? pass(`peer = before + target at the freeze (${counterText(c.frozenCounters)})`) : fail(`${diffs.length} counter(s) not conserved`, undefined, diffs);
  });
  await chain.step('source-cleaned', async () => {
    const [left, counters] = [await heldFlows(target, o.migrationFlows), await vmCounters(target)];
    if (left.size > 0 || !isZero(counters)) return fail(`the target still holds ${left.size} flow(s) of the VM; its counters: ${counterText(counters)}`);
    return pass(`no flow of the VM in any candidate slot; counters zero (${c.move?.committed?.deleted ?? 0} slots deleted)`);
  });
  await chain.step('traffic-after', async () => {
    const atPeer = await inbound(peer, c.flows, 0);
    const atTarget = await inbound(target, c.flows, 0);
    if (atPeer !== c.flows.length || atTarget !== 0) return fail(`of ${c.flows.length} inbound segments, the peer passed ${atPeer} (expected all) and the target ${atTarget} (expected none)`);
    return pass(`${atPeer} of ${c.flows.length} inbound segments passed at the peer; none at the target`);
  });

  await chain.step('rollback', async () => {
    const r = await move(peer, target, true, true);
    if (!r.sync || !r.aborted || r.aborted.reason !== 'PEER_REJECTED' || r.aborted.undoFailed.length > 0) return fail(`the move back did not reach activation and roll back cleanly: ${describeMove(r)}`);
    const problems: string[] = [];
    const left = await heldFlows(target, o.migrationFlows);
    if (left.size > 0) problems.push(`the target still holds ${left.size} flow(s) of the VM`);
    const tc = await vmCounters(target);
    if (!isZero(tc)) problems.push(`the target's counters are not zero: ${counterText(tc)}`);
    // The peer was frozen, then unfrozen: it must hold exactly what it held at the freeze.
    problems.push(...flowDiffs(c.frozen, await heldFlows(peer, o.migrationFlows), [], ['peer at the freeze', 'peer after'], o.maxDiffs));
    const passed = await inbound(peer, c.flows, 1);
    if (passed !== c.flows.length) problems.push(`the peer passed ${passed} of ${c.flows.length} inbound segments after the rollback`);
    if (problems.length > 0) return fail(`${problems.length} problem(s) after the rollback`, undefined, problems);
    return pass(`${describeMove(r)}; the target holds nothing, the peer's ${c.frozen.size} flows are as at the freeze and admit traffic`);
  });

  await chain.step('round-trip', async () => {
    c.move = await move(peer, target, true);
    if (!c.move.committed) return fail(`the move back did not commit: ${describeMove(c.move)}`);
    const problems: string[] = [];
    const back = await moved(target, 'target');
    if (back.status !== 'PASS') problems.push(back.detail, ...(back.diff ?? []));
    problems.push(...counterDiffs(c.destBefore, c.frozenCounters, await vmCounters(target)));
    const left = await heldFlows(peer, o.migrationFlows);
    const pc = await vmCounters(peer);
    if (left.size > 0 || !isZero(pc)) problems.push(`the peer still holds ${left.size} flow(s); its counters: ${counterText(pc)}`);
    if (problems.length > 0) return fail(`${problems.length} problem(s) after the move back`, undefined, problems);
    return pass(`${describeMove(c.move)}; ${c.frozen.size} flows and the counters at the target again, the peer clean`);
  });
}

/** The migration group. */
export const migrationGroup: HwTestGroup = {
  id: 'migration',
  title: '5. Migration between two switches',
  async run(s, rec) {
    const chain = new Chain(rec);
    const peerSession = s.peer;
    let target: MigrationSide | undefined;
    let peer: MigrationSide | undefined;
    let flows: number[] = [];
    try {
      await chain.step('setup', async () => {
        // The options refuse the group without --peer; a caller that built a session by hand is told.
        if (!peerSession) return fail('the migration group needs a second switch: --peer HOST:PORT');
        target = await prepareSide(s, 'target', s.o.fixture.migrationVm.vmId, s.o.migrationFlows);
        peer = await prepareSide(peerSession, 'peer', s.o.fixture.migrationVm.peerVmId, s.o.migrationFlows);
        const opened = await openFlows(s, target);
        if (!Array.isArray(opened)) return opened;
        flows = opened;
        return pass(
          `${flows.length} of ${s.o.migrationFlows} flows established at the target${flows.length < s.o.migrationFlows ? ' (the rest found every candidate slot taken)' : ''}, all known to its plugin; ` +
            `register access ${target.plugin.registerAccess.capabilities().backend} at the target, ${peer.plugin.registerAccess.capabilities().backend} at the peer`,
        );
      });
      if (target && peer && flows.length > 0) await runChecks(s, chain, target, peer, flows);
      else chain.rest('setup');
    } finally {
      await releaseSide(target);
      await releaseSide(peer);
    }
  },
};

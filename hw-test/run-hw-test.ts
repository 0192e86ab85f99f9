/**
 * `runHwTest`: validate one target. Opens a primary session, checks that the target runs the
 * expected pipeline (or pushes it with --push-pipeline, and refuses otherwise), runs the selected
 * groups, reverts every write it made, and returns the report. Failing checks are in the report;
 * only a run that cannot start (bad options, refusal, unreachable target) throws.
 */
import { P4RuntimeError, pipelineCookie } from 'p4runtime-ts';
import type { P4Switch, PipelineConfig } from 'p4runtime-ts';
import { GroupRecorder, fail, pass } from './check-recorder.js';
import { connectSwitch } from './connect.js';
import { readTestedContract } from './contract-check.js';
import { HwTestError } from './errors.js';
import { refuseFixtureConflicts } from './fixture-conflicts.js';
import { hwTestGroup } from './groups/registry.js';
import { parseHwTestOptions } from './options.js';
import type { HwTestOptions, ParsedHwTestOptions } from './options.js';
import { comparePipeline } from './pipeline-identity.js';
import { hwTestProfile } from './profiles.js';
import { summarize } from './report/types.js';
import type { GroupResult, HwTestReport } from './report/types.js';
import { HwTestSession } from './session.js';
import type { PipelineState } from './session.js';
import { targetStatus } from './target-status.js';
import { UndoLog } from './undo-log.js';

/** Which of the two switches a step concerns (the peer only with --peer). */
type SwitchRole = 'target' | 'peer';

/** The options as seen from the peer (its address and device id in place of the target's), or undefined without --peer. */
function peerOptions(o: ParsedHwTestOptions): ParsedHwTestOptions | undefined {
  return o.peer === undefined ? undefined : Object.freeze({ ...o, target: o.peer, deviceId: o.peerDeviceId, credentials: o.peerCredentials });
}

const hex = (c: bigint | undefined): string => (c === undefined ? 'none' : `0x${c.toString(16)}`);

/** The target's pipeline, or undefined when it has none (BMv2 answers FAILED_PRECONDITION). */
async function currentPipeline(sw: P4Switch, type: 'P4INFO_AND_COOKIE' | 'ALL'): Promise<PipelineConfig | undefined> {
  try {
    return await sw.getPipeline(type);
  } catch (e) {
    if (e instanceof P4RuntimeError && (e.code === 'FAILED_PRECONDITION' || e.code === 'NOT_FOUND')) return undefined;
    throw e;
  }
}

/** Checks the target's pipeline against ours; pushes ours with --push-pipeline, else refuses. */
async function pipelineGate(o: ParsedHwTestOptions, sw: P4Switch, undo: UndoLog, notes: string[], role: SwitchRole): Promise<PipelineState> {
  const expectedCookie = o.deviceConfig ? pipelineCookie(o.schema.p4info, o.deviceConfig) : undefined;
  const identity = comparePipeline(o.schema, expectedCookie, await currentPipeline(sw, 'P4INFO_AND_COOKIE'));
  if (identity.kind === 'match') {
    notes.push(`the ${role} already runs the pipeline of ${o.p4infoSource} (cookie ${hex(identity.targetCookie)}); not pushed`);
    return { identity, pushed: false, cookieAfter: identity.targetCookie, pushedCookie: undefined };
  }
  if (!o.pushPipeline || !o.deviceConfig) {
    const where = `the ${role} ${o.target} (device ${o.deviceId})`;
    const push = `--push-pipeline${o.deviceConfig ? '' : ' --device-config FILE'}`;
    throw new HwTestError(
      'REFUSED',
      identity.kind === 'missing'
        ? `refusing to run: ${where} has no forwarding pipeline. hw-test checks the pipeline of --p4info ${o.p4infoSource}; ` +
            `rerun with ${push} to load it${o.deviceConfig ? '' : ' (BMv2: FILE is the JSON p4c-bm2-ss wrote)'}, or load it yourself — or, if that switch does run a pipeline, check ${role === 'peer' ? '--peer-device-id' : '--device-id'} (device ${o.deviceId} was asked)`
        : `refusing to run: the pipeline on ${where} is not the one in --p4info ${o.p4infoSource}: ${identity.differences.join('; ')}. ` +
            `Rerun with ${push} to replace it for the run (hw-test pushes the previous one back at the end, but a pipeline push clears the switch: ` +
            `the previous pipeline comes back without its table entries, counter and register values), or load the expected pipeline yourself`,
    );
  }
  const previous = identity.kind === 'different' ? await currentPipeline(sw, 'ALL') : undefined;
  let r: Awaited<ReturnType<P4Switch['ensurePipeline']>>;
  try {
    r = await sw.ensurePipeline({ schema: o.schema, deviceConfig: o.deviceConfig });
  } catch (e) {
    const t = targetStatus(e);
    throw new HwTestError('SETUP', `pushing the pipeline to the ${role} ${o.target} (device ${o.deviceId}) failed: ${t.code}: ${t.message}; check ${role === 'peer' ? '--peer-device-id' : '--device-id'} (BMv2 serves the one device id it was started with) and --device-config`, { cause: e });
  }
  if (previous?.p4info && previous.deviceConfig.length > 0) {
    const p4info = previous.p4info;
    undo.add(`push back the pipeline the ${role} ran before`, () => sw.setPipeline('VERIFY_AND_COMMIT', p4info, previous.deviceConfig, previous.cookie));
    notes.push(`replaced the ${role}'s pipeline (${identity.differences.join('; ') || 'different'}) with ${o.p4infoSource}; the previous one is pushed back at the end, without the table entries, counter and register values it held (a pipeline push clears them)`);
  } else if (previous) {
    undo.note(`the ${role} did not return the device config of its previous pipeline, so that pipeline could not be pushed back`);
    notes.push(`replaced the ${role}'s pipeline with ${o.p4infoSource}; the previous one cannot be restored (no device config returned)`);
  } else {
    notes.push(`the ${role} had no pipeline; pushed ${o.p4infoSource} with cookie ${hex(r.cookie)} (it stays loaded)`);
  }
  const cookieAfter = (await sw.getPipeline('COOKIE_ONLY')).cookie;
  return { identity, pushed: r.pushed, cookieAfter, pushedCookie: r.cookie };
}

/**
 * Opens the primary session, or throws UNREACHABLE / SETUP saying why. The peer bids with the
 * target session's election id: on the target itself (another address of the same switch) that
 * bid is refused as a duplicate, which shows it is no second switch.
 */
async function openPrimary(o: ParsedHwTestOptions, role: SwitchRole, electionId = o.electionId): Promise<P4Switch> {
  let sw: P4Switch;
  try {
    sw = await connectSwitch(o, electionId);
  } catch (e) {
    if (role === 'peer' && e instanceof P4RuntimeError && e.electionIdConflict) {
      throw new HwTestError('BAD_OPTIONS', `--peer: ${o.target} device ${o.deviceId} already holds this run's election id ${electionId}: it is the target itself under another address (or another client bids with that id there); give a second switch`, { cause: e });
    }
    const t = targetStatus(e);
    const flags = role === 'peer' ? '--peer, --peer-device-id and the --peer-tls-* flags (without them the peer gets the --tls-* ones)' : '--target, --device-id and the --tls-* flags';
    throw new HwTestError('UNREACHABLE', `cannot open a P4Runtime session with the ${role} ${o.target} (device ${o.deviceId}): ${t.code}: ${t.message}; check ${flags}`, { cause: e });
  }
  if (!sw.isPrimary) {
    const a = sw.arbitration;
    await sw.close();
    throw new HwTestError(
      'SETUP',
      `not primary for device ${o.deviceId} on ${o.target}: another controller holds a higher election id${a.kind === 'backup' && a.primaryElectionId !== undefined ? ` (${a.primaryElectionId})` : ''}; ` +
        'hw-test writes to the target, so pass a higher --election-id (or stop the other controller)',
    );
  }
  return sw;
}

/**
 * Validates a target and returns the report.
 * @throws HwTestError BAD_OPTIONS, REFUSED (pipeline missing or different without --push-pipeline), UNREACHABLE, SETUP.
 * @example
 * const report = await runHwTest({ target: '127.0.0.1:9559', profile: 'bmv2', p4info: 'stateful_edge.p4info.txtpb', deviceConfig: 'stateful_edge.json', pushPipeline: true });
 * console.log(summaryLine(report.summary));
 */
export async function runHwTest(options: HwTestOptions): Promise<HwTestReport> {
  const o = parseHwTestOptions(options);
  const contract = readTestedContract(o.schema, o.p4infoSource);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const profile = hwTestProfile(o.profile);
  const undo = new UndoLog();
  const notes: string[] = [];
  const groups: GroupResult[] = [];
  const sw = await openPrimary(o, 'target');
  let session: HwTestSession | undefined;
  let peer: { readonly sw: P4Switch; session?: HwTestSession } | undefined;
  try {
    const pipeline = await pipelineGate(o, sw, undo, notes, 'target');
    sw.bindSchema(o.schema);
    // The peer is held from the start, so a peer that cannot serve is refused before any group runs.
    const po = peerOptions(o);
    if (po) {
      peer = { sw: await openPrimary(po, 'peer', sw.electionId) };
      const peerPipeline = await pipelineGate(po, peer.sw, undo, notes, 'peer');
      peer.sw.bindSchema(o.schema);
      peer.session = new HwTestSession(po, profile, peer.sw, o.schema, contract, peerPipeline, undo, notes);
    }
    const targetSession = new HwTestSession(o, profile, sw, o.schema, contract, pipeline, undo, notes, peer?.session);
    // A switch with a layout of its own under our keys is refused here (nothing written yet), not
    // met as a bare ALREADY_EXISTS by every check that needs the fixture.
    await refuseFixtureConflicts(targetSession, 'target', o.groups.includes('migration') ? o.fixture.migrationVm.vmId : undefined);
    if (peer?.session) await refuseFixtureConflicts(peer.session, 'peer', o.fixture.migrationVm.peerVmId);
    session = targetSession;
    for (const id of o.groups) {
      if (o.signal?.aborted) {
        notes.push(`interrupted before group ${id}: it and the groups after it were not run`);
        break;
      }
      const g = hwTestGroup(id);
      o.onProgress({ kind: 'group', group: id, title: g.title });
      const rec = new GroupRecorder(id, o.onProgress);
      const g0 = performance.now();
      await g.run(session, rec);
      groups.push({ id, title: g.title, checks: rec.results(), durationMs: performance.now() - g0 });
    }
  } finally {
    // A refused target was never written to: no cleanup to report.
    if (session !== undefined || undo.size > 0) await cleanUp(undo, o.onProgress, groups);
    session?.close();
    peer?.session?.close();
    await peer?.sw.close();
    await sw.close();
  }
  return {
    target: o.target,
    deviceId: o.deviceId.toString(),
    ...(o.peer === undefined ? {} : { peer: { address: o.peer, deviceId: o.peerDeviceId.toString() } }),
    profile: o.profile,
    p4info: o.p4infoSource,
    program: o.schema.programName,
    startedAt,
    durationMs: performance.now() - t0,
    notes,
    groups,
    summary: summarize(groups),
  };
}

/** Reverts every recorded write and reports it as the cleanup group. */
async function cleanUp(undo: UndoLog, onProgress: ParsedHwTestOptions['onProgress'], groups: GroupResult[]): Promise<void> {
  const rec = new GroupRecorder('cleanup', onProgress);
  const c0 = performance.now();
  const outcome = await undo.revertAll();
  const detail = `${outcome.recorded} writes recorded; ${outcome.reverted} reverted at the end, the rest by their own checks${outcome.notes.length > 0 ? `; ${outcome.notes.join('; ')}` : ''}`;
  rec.record(
    'undo',
    'every write reverted',
    outcome.failures.length === 0 ? pass(detail, { code: '-', message: '' }) : fail(`${outcome.failures.length} revert(s) failed; ${detail}`, { code: '-', message: '' }, outcome.failures.map((f) => `${f.what}: ${f.error}`)),
    performance.now() - c0,
  );
  groups.push({ id: 'cleanup', title: '6. Cleanup', checks: rec.results(), durationMs: performance.now() - c0 });
}

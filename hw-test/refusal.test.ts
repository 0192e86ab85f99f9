/**
 * hw-test refuses a target whose pipeline is missing or not the expected one (exit 2, a message
 * saying what differs and how to proceed) unless told --push-pipeline; with it, it replaces the
 * pipeline for the run and pushes the previous one back at the end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import { l2EchoDeviceConfig, l2EchoP4Info, minimalBmv2Json } from '../sim/index.js';
import type { SimSwitch } from '../sim/index.js';
import { runHwTestCommand } from './cli.js';
import { HwTestError } from './errors.js';
import { outcomes } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { P4INFO_PATH, startEdgeSim } from './testing/sim-target.js';

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function pushL2Echo(s: SimSwitch): Promise<bigint> {
  const sw = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 2n });
  try {
    const r = await sw.ensurePipeline({ p4info: l2EchoP4Info(), deviceConfig: l2EchoDeviceConfig('bmv2') });
    return r.cookie;
  } finally {
    await sw.close();
  }
}

async function refusal(p: Promise<unknown>): Promise<HwTestError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(HwTestError);
  return e as HwTestError;
}

describe('hw-test — refusing a target with the wrong pipeline', () => {
  it('refuses a switch with no pipeline without --push-pipeline, and says how to proceed', async () => {
    sim = await startEdgeSim('bmv2');
    const e = await refusal(runAgainstSim(sim, 'bmv2', { pushPipeline: false }));
    expect(e.code).toBe('REFUSED');
    expect(e.message).toMatch(/^refusing to run: the target 127\.0\.0\.1:\d+ \(device 0\) has no forwarding pipeline\. .* rerun with --push-pipeline to load it, or load it yourself — or, if that switch does run a pipeline, check --device-id \(device 0 was asked\)/);
    expect(sim.state.pipeline()).toBeNull();
  });

  it('exits 2 from the command line, naming the missing --device-config in the advice', async () => {
    sim = await startEdgeSim('bmv2');
    const err: string[] = [];
    const out: string[] = [];
    const code = await runHwTestCommand(['--target', sim.address, '--device-id', '0', '--profile', 'bmv2', '--p4info', P4INFO_PATH], { stdout: (t) => out.push(t), stderr: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/carryover hw-test: refusing to run: .* has no forwarding pipeline\. .* rerun with --push-pipeline --device-config FILE to load it/);
  });

  it('refuses a switch running another program, listing the differences, and leaves it alone', async () => {
    sim = await startEdgeSim('bmv2');
    const cookie = await pushL2Echo(sim);
    const e = await refusal(runAgainstSim(sim, 'bmv2', { pushPipeline: false }));
    expect(e.code).toBe('REFUSED');
    expect(e.message).toMatch(/is not the one in --p4info .*stateful_edge\.p4info\.txtpb: program: expected 'stateful_edge', target 'l2_echo'; /);
    expect(e.message).toMatch(/Rerun with --push-pipeline to replace it for the run \(hw-test pushes the previous one back at the end, but a pipeline push clears the switch: the previous pipeline comes back without its table entries, counter and register values\)/);
    expect(sim.state.pipeline()).toMatchObject({ program: 'l2_echo', cookie });
  });

  it('refuses the right P4Info built into another device config (cookie mismatch)', async () => {
    sim = await startEdgeSim('full');
    const schema = P4Schema.fromFile(P4INFO_PATH);
    const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 2n });
    await sw.ensurePipeline({ schema, deviceConfig: minimalBmv2Json('stateful_edge', ['another build']) });
    await sw.close();
    const e = await refusal(runAgainstSim(sim, 'full', { pushPipeline: false }));
    expect(e.message).toMatch(/cookie: expected 0x[0-9a-f]+ \(of --p4info \+ --device-config\), target 0x[0-9a-f]+ — the pipeline was built from other files/);
  });

  it('with --push-pipeline replaces another program for the run and pushes it back at the end', async () => {
    sim = await startEdgeSim('bmv2');
    const cookie = await pushL2Echo(sim);
    const r = await runAgainstSim(sim, 'bmv2', { groups: ['conformance'] });
    expect(outcomes(r)['conformance/pipeline-set']).toBe('PASS');
    expect(outcomes(r)['cleanup/undo']).toBe('PASS');
    expect(r.notes.join('\n')).toMatch(/replaced the target's pipeline .* the previous one is pushed back at the end, without the table entries, counter and register values it held/);
    expect(sim.state.pipeline()).toMatchObject({ program: 'l2_echo', cookie });
  });
});

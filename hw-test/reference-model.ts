/**
 * The reference: the sim's behavioural model of stateful_edge (or a model a caller passes in),
 * run in-process over an in-memory PipelineEnv holding the same fixture entries and the same
 * starting slot contents as the target, fed the very packets the target got, through the same
 * PacketOut path (op INJECT on the CPU port).
 */
import type { PacketEgress, ProgramRegister, SimProgram } from '../sim/index.js';
import { injectMetadata, parseIpv4 } from '../sim/programs/stateful-edge/index.js';
import { statefulEdgeEnvDouble } from '../sim/programs/stateful-edge/pipeline-env-test-double.js';
import type { InMemoryPipelineEnvDouble } from '../sim/programs/stateful-edge/pipeline-env-test-double.js';
import type { SlotGroupSpec } from '../plugin/index.js';
import type { FixtureSpec } from './fixture-spec.js';
import { fixtureTracker } from './fixture-spec.js';
import { hardEntries } from './fixture-hard.js';

/** One packet as the model gets it. */
export interface ModelPacket {
  readonly port: number;
  readonly payload: Uint8Array;
  /** Offset from the start of the run (the model's clock). */
  readonly atNs: bigint;
}

/** What the model starts from and what it is fed. */
export interface ModelRunInput {
  readonly program: SimProgram;
  readonly cpuPort: number;
  /** The target's P4Info registers: a build with compile-time options (another size, other hashes) is modelled as built. */
  readonly registers?: readonly ProgramRegister[];
  readonly fixture: FixtureSpec;
  readonly group: SlotGroupSpec;
  readonly packets: readonly ModelPacket[];
  /** Slot contents before the run (slots not listed are empty). */
  readonly initialSlots: ReadonlyMap<number, readonly bigint[]>;
  /** Dirty words before the run. */
  readonly initialDirty: ReadonlyMap<number, bigint>;
  readonly epoch: bigint;
  /** The model's clock at the first packet (the target's data-plane time, when known). */
  readonly startNs: bigint;
}

/** The model after the run. */
export interface ModelRun {
  readonly env: InMemoryPipelineEnvDouble;
  /** What happened to the packets: `forward`, `to-cpu`, `drop:<REASON>` → count. */
  readonly egress: Readonly<Record<string, number>>;
}

/** The model's env with the fixture's entries (the same ones fixture.ts writes to the target). */
export function fixtureEnv(fixture: FixtureSpec, cpuPort: number): InMemoryPipelineEnvDouble {
  const env = statefulEdgeEnvDouble();
  for (const [i, vm] of fixture.vms.entries()) {
    env.addEntry('port_role', { match: { port: { value: BigInt(vm.port) } }, action: 'vm_port_role', params: { uplink_port: BigInt(fixture.uplinkPort) } });
    env.addEntry('vm_table', { match: { vm_addr: { value: BigInt(parseIpv4(vm.addr)) } }, action: 'set_vm', params: { vm_id: BigInt(vm.vmId), port: BigInt(vm.port) } });
    env.addEntry('vm_migration', { match: { vm_id: { value: BigInt(vm.vmId) } }, action: 'set_migration', params: { track: 1n, freeze: 0n, staged: 0n, active: 1n, tracker: BigInt(fixtureTracker(i)) } });
    for (const port of fixture.vmServicePorts) {
      env.addEntry('static_acl', {
        match: { vm_addr: { value: BigInt(parseIpv4(vm.addr)), mask: 0xffffffffn }, vm_port: { value: BigInt(port), mask: 0xffffn }, protocol: { value: 6n, mask: 0xffn } },
        priority: 10,
        action: 'static_allow',
      });
    }
  }
  env.addEntry('port_role', { match: { port: { value: BigInt(fixture.uplinkPort) } }, action: 'uplink_role' });
  for (const e of hardEntries(fixture, cpuPort)) env.addEntry(e.table, e);
  return env;
}

function egressKey(e: PacketEgress): string {
  return e.kind === 'drop' ? `drop:${e.reason ?? '?'}` : e.kind;
}

/** Runs the model over the packets. */
export function runReferenceModel(input: ModelRunInput): ModelRun {
  const env = fixtureEnv(input.fixture, input.cpuPort);
  const g = input.group;
  for (const [slot, words] of input.initialSlots) {
    g.words.forEach((w, i) => {
      const v = words[i] ?? 0n;
      if (v !== 0n) env.registerWrite(w.register, slot, v);
    });
  }
  if (g.dirty) {
    for (const [word, v] of input.initialDirty) if (v !== 0n) env.registerWrite(g.dirty.register, word, v);
    env.registerWrite(g.dirty.epochRegister, 0, input.epoch);
  }
  const pipe = input.program.instantiate({ cpuPort: input.cpuPort, ...(input.registers ? { registers: input.registers } : {}) });
  const egress: Record<string, number> = {};
  for (const p of input.packets) {
    env.nowNsValue = input.startNs + p.atNs;
    const e = pipe.process({ ingressPort: input.cpuPort, payload: p.payload, packetOutMetadata: injectMetadata(p.port) }, env);
    const k = egressKey(e);
    egress[k] = (egress[k] ?? 0) + 1;
  }
  return { env, egress };
}

/** A slot's words as the model holds them. */
export function modelSlot(env: InMemoryPipelineEnvDouble, group: SlotGroupSpec, slot: number): bigint[] {
  return group.words.map((w) => env.registerRead(w.register, slot));
}

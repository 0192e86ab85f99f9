/**
 * Deliberately wrong reference models, for proving the differential group fails loudly: each is
 * the sim's stateful_edge model with one behaviour changed through its PipelineEnv.
 */
import type { PacketEgress, PacketIngress, PipelineEnv, ProgramInstance, SimProgram } from '../../sim/index.js';
import { CT_WORDS, statefulEdgeProgram } from '../../sim/programs/stateful-edge/index.js';

const SLOT_REGISTERS = new Set<string>(CT_WORDS.map((w) => w.register));

/** The stateful_edge model under `name`, its PipelineEnv changed by `alter` (what is not altered passes through). */
function alteredModel(name: string, alter: (env: PipelineEnv) => Partial<PipelineEnv>): SimProgram {
  return Object.freeze({
    name,
    instantiate(options: { readonly cpuPort: number }): ProgramInstance {
      const inner = statefulEdgeProgram.instantiate(options);
      return {
        process(packet: PacketIngress, env: PipelineEnv): PacketEgress {
          const altered: PipelineEnv = {
            applyTable: (t, k, b) => env.applyTable(t, k, b),
            registerRead: (r, i) => env.registerRead(r, i),
            registerWrite: (r, i, v) => env.registerWrite(r, i, v),
            counterCount: (c, i, b) => env.counterCount(c, i, b),
            digest: (d, f) => env.digest(d, f),
            nowNs: () => env.nowNs(),
            ...alter(env),
          };
          return inner.process(packet, altered);
        },
      };
    },
  });
}

/**
 * A model that probes the two ways of a bucket in the opposite order from the P4: every slot
 * register access goes to the other slot of the pair (index XOR 1), as if the hash choice placed
 * the flow one way over.
 */
export const SWAPPED_WAYS_MODEL: SimProgram = alteredModel('stateful_edge (ways swapped)', (env) => ({
  registerRead: (r, i) => env.registerRead(r, SLOT_REGISTERS.has(r) ? i ^ 1 : i),
  registerWrite: (r, i, v) => env.registerWrite(r, SLOT_REGISTERS.has(r) ? i ^ 1 : i, v),
}));

/**
 * A model that counts every change of a tracked VM twice (its change-count register advances by
 * two per change), as a pipeline that numbers changes wrongly would: the change logs still agree.
 */
export const DOUBLE_COUNTING_MODEL: SimProgram = alteredModel('stateful_edge (changes counted twice)', (env) => ({
  registerWrite: (r, i, v) => env.registerWrite(r, i, r === 'ct_trk_changes' ? (v + 1n) & 0xffffffffn : v),
}));

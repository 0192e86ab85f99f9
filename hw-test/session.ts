/**
 * One hw-test run's hold on the target: the P4Runtime session, the contract read from the
 * P4Info, the undo log, the fixture, and the ways to reach the pipeline's state — raw in-band
 * requests (for the conformance checks), the plugin's two register-access backends, frame
 * injection through PacketOut, and the (memoized) workload run the comparing groups share.
 */
import { randomInt } from 'node:crypto';
import { P4RuntimeError, systemClock } from 'p4runtime-ts';
import type { P4Schema, P4Switch } from 'p4runtime-ts';
import { filter, firstValueFrom, map, timeout } from 'rxjs';
import {
  InbandRegisterAccess,
  P4RuntimeRegisterAccess,
  decodeInbandAnswer,
  encodeInbandRequest,
  parseInbandOptions,
  readCounterCell,
  switchInbandChannel,
} from '../plugin/index.js';
import type { InbandAnswer, InbandSpec, MigrationContract, RegisterAccess, SlotGroupSpec } from '../plugin/index.js';
import type { ParsedHwTestOptions } from './options.js';
import type { PipelineIdentity } from './pipeline-identity.js';
import type { HwTestProfile } from './profiles.js';
import { answerOf } from './check-recorder.js';
import type { TargetAnswer } from './check-recorder.js';
import type { UndoLog } from './undo-log.js';

/** What the pipeline gate found and did. */
export interface PipelineState {
  readonly identity: PipelineIdentity;
  /** True when this run pushed the pipeline (VERIFY_AND_COMMIT). */
  readonly pushed: boolean;
  /** The cookie the target reported after the gate. */
  readonly cookieAfter: bigint | undefined;
  /** The cookie we pushed with (when pushed). */
  readonly pushedCookie: bigint | undefined;
}

/** The outcome of probing one register-access path. */
export type BackendProbe =
  | { readonly available: true; readonly detail: string }
  | { readonly available: false; readonly answer: TargetAnswer; readonly detail: string };

/** A frame to inject: it enters the pipeline as if it arrived on `port`. */
export interface InjectedFrame {
  readonly port: number;
  readonly payload: Uint8Array;
}

/** One run's state. */
export class HwTestSession {
  readonly group: SlotGroupSpec;
  readonly inbandSpec: InbandSpec;
  private inbandAccess: InbandRegisterAccess | undefined;
  private p4rtAccess: P4RuntimeRegisterAccess | undefined;
  private registerProbe: Promise<BackendProbe> | undefined;
  private inbandProbe: Promise<BackendProbe> | undefined;
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    readonly o: ParsedHwTestOptions,
    readonly profile: HwTestProfile,
    readonly sw: P4Switch,
    readonly schema: P4Schema,
    readonly contract: MigrationContract,
    readonly pipeline: PipelineState,
    /** Every write of the run and its revert (the pipeline gate records into it first). */
    readonly undo: UndoLog,
    /** What the run did around the checks, for the report. */
    readonly notes: string[],
    /** The second switch (--peer), held the same way; sharing this run's undo log and notes. */
    readonly peer?: HwTestSession,
  ) {
    const group = contract.groups[0];
    if (!group || !contract.inband) throw new Error('HwTestSession: the contract has no slot group with an in-band service (checked by the runner)');
    this.group = group;
    this.inbandSpec = contract.inband;
  }

  /** Runs `make` once per key and shares its promise (the workload run, the fixture). */
  once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.memo.set(key, p);
    }
    return p;
  }

  /** The plugin's in-band backend (built on first use; answers are matched by request id). */
  inband(): InbandRegisterAccess {
    this.inbandAccess ??= new InbandRegisterAccess({
      group: this.group,
      spec: this.inbandSpec,
      channel: switchInbandChannel(this.sw),
      options: parseInbandOptions({ window: this.o.inbandWindow, timeoutMs: this.o.inbandTimeoutMs, maxAttempts: 4 }),
      clock: systemClock,
      logger: this.o.logger,
      counters: (counter, index) => readCounterCell(this.sw, counter, index),
      reason: 'hw-test: in-band requests through the pipeline',
    });
    return this.inbandAccess;
  }

  /** The plugin's P4Runtime backend (whether the target serves it is for the probe to say). */
  p4runtime(): P4RuntimeRegisterAccess {
    this.p4rtAccess ??= new P4RuntimeRegisterAccess(this.sw, this.group, 'hw-test: P4Runtime RegisterEntry');
    return this.p4rtAccess;
  }

  /** Probes RegisterEntry reads once: one read of word 0's register, cell 0. */
  probeRegisterEntries(): Promise<BackendProbe> {
    this.registerProbe ??= (async () => {
      const reg = this.group.words[0]?.register ?? '';
      try {
        await this.sw.readAll(this.sw.register(reg).at(0));
        return { available: true, detail: `RegisterEntry read of ${reg}[0] answered` } as const;
      } catch (e) {
        return { available: false, answer: answerOf(e), detail: `RegisterEntry read of ${reg}[0] failed` } as const;
      }
    })();
    return this.registerProbe;
  }

  /** Probes the in-band service once: one READ_EPOCH. */
  probeInband(): Promise<BackendProbe> {
    this.inbandProbe ??= (async () => {
      try {
        const epoch = await this.inband().readEpoch();
        return { available: true, detail: `READ_EPOCH answered (epoch ${epoch})` } as const;
      } catch (e) {
        return { available: false, answer: answerOf(e), detail: `in-band READ_EPOCH got no answer: ${e instanceof Error ? e.message : String(e)}` } as const;
      }
    })();
    return this.inbandProbe;
  }

  /**
   * The backend for sparse slot reads: in-band when the pipeline answers (one request per slot,
   * cheap on every target), else RegisterEntry. (Stratum syncs each register cell from hardware
   * before answering, so index reads of nine registers per slot are slow there.)
   */
  async slotReader(): Promise<RegisterAccess> {
    if ((await this.probeInband()).available) return this.inband();
    if ((await this.probeRegisterEntries()).available) return this.p4runtime();
    throw new P4RuntimeError(
      'UNIMPLEMENTED',
      `${this.o.target} (device ${this.o.deviceId}) serves neither RegisterEntry reads nor in-band requests: the conntrack state cannot be read; ` +
        `check it runs with --cpu-port ${this.o.cpuPort} (the P4 program's CPU_PORT; hw-test's --cpu-port applies to the peer too) and the pipeline --p4info describes`,
    );
  }

  /** The backend for whole dirty buffers: a RegisterEntry wildcard read where served, else in-band. */
  async bufferReader(): Promise<RegisterAccess> {
    if ((await this.probeRegisterEntries()).available) return this.p4runtime();
    return this.slotReader();
  }

  /** A P4Runtime register writer, when the target serves RegisterEntry (the probe reads; writes are assumed alike). */
  async registerWriter(): Promise<P4RuntimeRegisterAccess | undefined> {
    return (await this.probeRegisterEntries()).available ? this.p4runtime() : undefined;
  }

  /** A fresh in-band request id. */
  requestId(): number {
    const max = 2 ** Math.min(this.inbandSpec.reqIdBits, 31);
    return randomInt(1, max);
  }

  /** Sends one raw in-band request and waits for its answer (matched by request id); no retry. */
  async rawRequest(op: number, index = 0, extra: { readonly mask?: number; readonly words?: readonly bigint[] } = {}): Promise<{ readonly answer: InbandAnswer; readonly reqId: number }> {
    const reqId = this.requestId();
    const answer = firstValueFrom(
      this.sw.packetIn$.pipe(
        map((p) => decodeInbandAnswer(this.inbandSpec, p.metadata)),
        filter((a): a is InbandAnswer => a !== undefined && a.reqId === reqId),
        timeout({
          first: this.o.inbandTimeoutMs * 4,
          with: () => {
            throw new Error(
              `no PacketIn answered in-band request ${reqId} (op ${op}) within ${this.o.inbandTimeoutMs * 4} ms; ` +
                `check the switch runs with --cpu-port ${this.o.cpuPort} (the P4 program's CPU_PORT) and the pipeline is the one --p4info describes`,
            );
          },
        }),
      ),
    );
    this.sw.packetOut(new Uint8Array(0), encodeInbandRequest(this.inbandSpec, { op, reqId, index, ...extra }));
    return { answer: await answer, reqId };
  }

  /** packet_out metadata that injects a frame on `port` (op 0, every other field 0). */
  injectMetadata(port: number): Record<string, bigint> {
    const md: Record<string, bigint> = {};
    for (const f of this.inbandSpec.requestFields) md[f.name] = 0n;
    md.op = 0n;
    md.port = BigInt(port);
    return md;
  }

  /** Waits until every packet sent before it has passed the pipeline (an in-band READ_EPOCH). */
  async barrier(): Promise<void> {
    await this.inband().readEpoch();
  }

  /**
   * Injects frames through PacketOut, a window at a time, each window closed by a barrier so no
   * more than `inbandWindow` packets are in the target at once (BMv2 drops past ~128).
   */
  async inject(frames: readonly InjectedFrame[]): Promise<void> {
    const w = this.o.inbandWindow;
    for (let i = 0; i < frames.length; i += w) {
      for (const f of frames.slice(i, i + w)) this.sw.packetOut(f.payload, this.injectMetadata(f.port));
      await this.barrier();
    }
  }

  /** Stops the backends' request engines (the P4Switch is closed by the runner). */
  close(): void {
    this.inbandAccess?.close();
    this.p4rtAccess?.close();
  }
}

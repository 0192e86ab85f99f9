/**
 * `startSimSwitch`: a software P4 switch serving P4Runtime over real gRPC, behaving like the
 * chosen target profile, with fault injection and direct state access for tests.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { p4 } from 'p4runtime-ts/proto';
import { SimFaults } from './faults.js';
import { parseSimSwitchOptions } from './options.js';
import type { ParsedSimSwitchOptions, SimSwitchOptions } from './options.js';
import { GrpcStatus } from './p4rt/status.js';
import { P4RUNTIME_SERVICE } from './p4rt/service-definition.js';
import { simProfile } from './profiles.js';
import type { SimProfile } from './profiles.js';
import type { PacketEgress } from './program.js';
import './programs/builtin.js';
import type { ForwardingState } from './pipeline/forwarding-state.js';
import type { P4InfoIndex } from './pipeline/p4info-index.js';
import type { RoleView } from './server/arbitration.js';
import type { DataplaneStats, EgressPacket } from './server/dataplane.js';
import type { DigestStats } from './server/digest-engine.js';
import { p4runtimeImplementation } from './server/p4runtime-service.js';
import { SimDevice } from './server/sim-device.js';

/** A read-only view of one table entry, by names, for tests. */
export interface SimTableEntryView {
  readonly match: readonly ({ readonly field: string; readonly kind: string; readonly value?: bigint; readonly mask?: bigint; readonly prefixLen?: number; readonly low?: bigint; readonly high?: bigint } | null)[];
  readonly priority: number;
  readonly action: string | null;
  readonly params: Readonly<Record<string, bigint>>;
  readonly counter: { readonly bytes: bigint; readonly packets: bigint } | null;
  readonly idleTimeoutNs: bigint;
}

/** Direct access to the switch's state, bypassing P4Runtime (tests, scenarios, hw-test's reference). */
export interface SimStateAccess {
  /** The committed pipeline: program, cookie, P4Info; null before any commit. */
  pipeline(): { readonly program: string; readonly cookie: bigint | null; readonly p4info: p4.config.v1.P4Info.$Properties; readonly index: P4InfoIndex } | null;
  /** The committed forwarding state (mutable: tests may poke it), or null. */
  forwardingState(): ForwardingState | null;
  tableEntries(table: string): SimTableEntryView[];
  registerRead(register: string, index: number): bigint;
  registerWrite(register: string, index: number, value: bigint): void;
  counter(counter: string, index: number): { bytes: bigint; packets: bigint };
  /** Arbitration of this device, per role. */
  arbitration(): RoleView[];
  /** Number of open StreamChannel calls. */
  streamCount(): number;
  digestStats(): DigestStats;
  /** Runs one idle-timeout scan now (tests on real time need not wait for the timer). */
  scanIdleTimeouts(): void;
}

/** The data plane's ports, for tests: inject packets, watch what leaves. */
export interface SimDataplaneAccess {
  /** A packet arriving on data port `port`; returns what the pipeline did with it. */
  inject(port: number, payload: Uint8Array): PacketEgress;
  /** Subscribes to packets leaving on data ports; returns the unsubscribe function. */
  onEgress(listener: (packet: EgressPacket) => void): () => void;
  stats(): DataplaneStats | null;
}

/** A running simulated switch. */
export interface SimSwitch {
  /** `host:port` clients connect to. */
  readonly address: string;
  readonly port: number;
  readonly deviceId: bigint;
  readonly cpuPort: number;
  readonly profile: SimProfile;
  readonly options: ParsedSimSwitchOptions;
  readonly faults: SimFaults;
  readonly state: SimStateAccess;
  readonly dataplane: SimDataplaneAccess;
  /** Closes every stream and the server. Idempotent. */
  stop(): Promise<void>;
}

function credentialsOf(o: ParsedSimSwitchOptions): ServerCredentials {
  const c = o.credentials;
  if (c.kind === 'insecure') return ServerCredentials.createInsecure();
  const pair = [{ cert_chain: Buffer.from(c.certPem), private_key: Buffer.from(c.keyPem) }];
  if (c.kind === 'tls') return ServerCredentials.createSsl(null, pair, false);
  return ServerCredentials.createSsl(Buffer.from(c.caPem), pair, true);
}

function stateAccess(dev: SimDevice): SimStateAccess {
  const need = (): { index: P4InfoIndex; state: ForwardingState } => {
    const p = dev.committed;
    if (!p) throw new Error('the sim has no committed pipeline; push one with SetForwardingPipelineConfig first');
    return { index: p.index, state: p.state };
  };
  const register = (name: string, index: number) => {
    const { index: ix, state } = need();
    const arr = state.registers.get(ix.idOf('register', name) ?? 0);
    if (!arr) throw new Error(`no register '${name}' in the committed P4Info`);
    if (!Number.isInteger(index) || index < 0 || index >= arr.size) throw new RangeError(`register '${name}' index ${index} out of range (size ${arr.size})`);
    return arr;
  };
  return {
    pipeline: () => {
      const p = dev.committed;
      return p ? { program: p.program.name, cookie: p.cookie, p4info: p.p4info, index: p.index } : null;
    },
    forwardingState: () => dev.committed?.state ?? null,
    tableEntries: (table) => {
      const { index, state } = need();
      const t = index.tableByName(table);
      const store = state.table(t.id);
      return [...store.entries()].map((e) => {
        const a = e.action ? index.actions.get(e.action.actionId) : undefined;
        const params: Record<string, bigint> = {};
        a?.params.forEach((p, i) => {
          params[p.name] = e.action?.params[i] ?? 0n;
        });
        return {
          match: e.match.map((m, i) => (m ? { field: t.matchFields[i]?.name ?? '', ...m } : null)),
          priority: e.priority,
          action: a?.shortName ?? null,
          params,
          counter: e.counter ? { ...e.counter } : null,
          idleTimeoutNs: e.idleTimeoutNs,
        };
      });
    },
    registerRead: (name, index) => register(name, index).get(index),
    registerWrite: (name, index, value) => register(name, index).set(index, value),
    counter: (name, index) => {
      const { index: ix, state } = need();
      const arr = state.counters.get(ix.idOf('counter', name) ?? 0);
      if (!arr) throw new Error(`no counter '${name}' in the committed P4Info`);
      if (!Number.isInteger(index) || index < 0 || index >= arr.size) throw new RangeError(`counter '${name}' index ${index} out of range (size ${arr.size})`);
      return arr.get(index);
    },
    arbitration: () => dev.arbiterFor(dev.deviceId)?.view() ?? [],
    streamCount: () => dev.sessions.size,
    digestStats: () => ({ ...dev.digests.stats }),
    scanIdleTimeouts: () => dev.idle.scan(),
  };
}

/**
 * Starts a simulated switch and resolves once it listens.
 * @example
 * const sw = await startSimSwitch({ profile: 'bmv2', deviceId: 1 });
 * // connect a P4Runtime client to sw.address …
 * await sw.stop();
 */
export async function startSimSwitch(options: SimSwitchOptions = {}): Promise<SimSwitch> {
  const o = parseSimSwitchOptions(options);
  const profile = simProfile(o.profile, o.canonicalBytestrings);
  const dev = new SimDevice(o, profile);
  const faults = new SimFaults({
    closeAllStreams: (code, message) => dev.closeAllStreams(code, message),
    restart: async (downForMs) => {
      dev.reset();
      dev.downUntil = dev.scheduler.now() + downForMs;
    },
  });
  dev.digestLoss = () => faults.takeDigestLoss();
  const server = new Server({
    'grpc.max_receive_message_length': 256 * 1024 * 1024,
    'grpc.max_send_message_length': 256 * 1024 * 1024,
  });
  server.addService(P4RUNTIME_SERVICE, p4runtimeImplementation(dev, faults));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(o.listen, credentialsOf(o), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const host = o.host;
  const address = `${host}:${port}`;
  o.logger.info('sim switch listening', { address, profile: o.profile, deviceId: o.deviceId.toString(), cpuPort: dev.cpuPort, program: o.program });
  let stopped: Promise<void> | null = null;
  const sw: SimSwitch = {
    address,
    port,
    deviceId: o.deviceId,
    cpuPort: dev.cpuPort,
    profile,
    options: o,
    faults,
    state: stateAccess(dev),
    dataplane: {
      inject: (p, payload) => {
        if (!dev.dataplane) throw new Error('the sim has no committed pipeline; nothing to process packets');
        return dev.dataplane.inject(p, payload);
      },
      onEgress: (listener) => dev.onEgress(listener),
      stats: () => (dev.dataplane ? { ...dev.dataplane.stats } : null),
    },
    stop: () => {
      stopped ??= (async () => {
        dev.closeAllStreams(GrpcStatus.UNAVAILABLE, 'switch stopping');
        dev.shutdown();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 1000);
          force.unref();
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        o.logger.info('sim switch stopped', { address });
      })();
      return stopped;
    },
  };
  return sw;
}

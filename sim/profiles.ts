/**
 * Target profiles: what differs between the specification, BMv2 `simple_switch_grpc` (as the lab
 * observed it, ../shared/lab/2026-11-24-bmv2-facts.md) and Tofino behind Stratum. Every switch in
 * the sim reads its behaviour from one of these objects; nothing else branches on a profile name.
 */

/** The profiles the sim can play. */
export type SimProfileName = 'full' | 'bmv2' | 'stratum-tofino';

/** All profile names, for validation and `--profile` help. */
export const SIM_PROFILE_NAMES: readonly SimProfileName[] = ['full', 'bmv2', 'stratum-tofino'];

/** Everything a profile decides. */
export interface SimProfile {
  readonly name: SimProfileName;
  /** Capabilities.p4runtime_api_version. */
  readonly apiVersion: string;
  /**
   * `spec`: per (device, role) primary = highest election id ever seen, unset ids never primary.
   * `highest-connected`: PI's model — roles ignored, primary = highest connected id (unset = 0).
   */
  readonly arbitration: 'spec' | 'highest-connected';
  /** Most live streams per arbitration group (PI: 16). */
  readonly maxConnections: number;
  /**
   * `spec`: an unknown device id is NOT_FOUND everywhere.
   * `bmv2`: PI creates a device state for any id: arbitration succeeds, Write answers "Not primary",
   * Read/Get answer "no pipeline".
   */
  readonly deviceIds: 'spec' | 'bmv2';
  /** PI accepts writes with no election id while no controller has arbitrated (a debugging aid). */
  readonly writesWithoutArbitration: boolean;
  /**
   * `padded-ok`: a bytestring longer than the shortest form is accepted when its value fits the
   * width (P4Runtime 1.4 §8.3: the receiver imposes no maximum length; p4runtime-shell pads every
   * value). `canonical-only`: padded strings are INVALID_ARGUMENT — an opt-in strictness
   * (`canonicalBytestrings`), no target requires it.
   */
  readonly bytestrings: 'canonical-only' | 'padded-ok';
  /** Whether ROLLBACK_ON_ERROR and DATAPLANE_ATOMIC are honoured (else UNIMPLEMENTED). */
  readonly atomicModes: boolean;
  readonly registers: {
    readonly read: boolean;
    /** `modify`: MODIFY only (INSERT/DELETE are INVALID_ARGUMENT, as for counters); `none`: UNIMPLEMENTED per update. */
    readonly write: 'modify' | 'none';
    /** Widest register cell the target can read or write over P4Runtime (bits). */
    readonly maxBits: number;
    /** Extra latency of a register read: the target syncs from hardware first. */
    readonly readSyncMs: number;
  };
  /** `stream`: large results split over several ReadResponses. `single`: one message, always. */
  readonly readResponses: 'stream' | 'single';
  /**
   * `spec`: every read request is attempted; failures reported as UNKNOWN with one p4.v1.Error per
   * request. `first-error`: PI stops at the first failure, sends what it read, then that error.
   */
  readonly readErrors: 'spec' | 'first-error';
  /**
   * Indirect counter writes. `spec`: MODIFY sets the counts given; DELETE is INVALID_ARGUMENT.
   * `pi`: MODIFY of a PACKETS (BYTES) counter writes only the packet (byte) count and keeps the
   * other, which BMv2 counts all the same (PI's counter_data_proto_to_pi, then _pi_counter_write
   * merging in the current value); DELETE of one cell resets both counts to 0.
   */
  readonly counterWrites: 'spec' | 'pi';
  /** Reading a counter index beyond its size: OUT_OF_RANGE (spec) or PI's UNKNOWN. */
  readonly counterIndexBeyondSize: 'out-of-range' | 'unknown';
  /** GetForwardingPipelineConfig before any pipeline: empty response (spec) or FAILED_PRECONDITION (PI). */
  readonly getWithoutPipeline: 'empty' | 'failed-precondition';
  /**
   * A Read of one digest's DigestEntry while it has no configuration: nothing (`empty`), or PI's
   * NOT_FOUND "Digest <id> not configured" (`not-found`; BMv2 1.15.5, seen 2026-12-07, also after a
   * pipeline push cleared a configuration).
   */
  readonly unconfiguredDigestRead: 'empty' | 'not-found';
  readonly idleTimeout: {
    readonly notifications: boolean;
    readonly scanIntervalMs: number;
    /** `spec`: reported once elapsed >= TTL. `whole-scans`: once the whole scan periods elapsed exceed the TTL (BMv2's sweep). */
    readonly rule: 'spec' | 'whole-scans';
    /** BMv2 caps elapsed_ns at the entry's timeout. */
    readonly capElapsedAtTimeout: boolean;
    /** BMv2 returns no time_since_last_hit for entries without a timeout. */
    readonly omitElapsedWithoutTimeout: boolean;
    /**
     * BMv2 (PI target, 1.15.5) reports time_since_last_hit as the timeout minus the remaining time
     * computed in whole ms × 10^6 in 32-bit unsigned arithmetic, i.e. modulo 2^32 ns (≈4.3 s): a
     * 60 s entry just inserted reads ≈55.8 s (behavioral-model PI/src/pi_tables_imp.cpp).
     */
    readonly remainingWrapsAt32Bits: boolean;
  };
  readonly digests: {
    /** `spec`: lists flush at max_timeout_ns. `bmv2-coarse`: as the lab measured (see digest-engine.ts). */
    readonly timing: 'spec' | 'bmv2-coarse';
  };
  /** `opaque`: any bytes. `bmv2-json`: must be the JSON p4c-bm2-ss writes. */
  readonly deviceConfig: 'opaque' | 'bmv2-json';
  /** RECONCILE_AND_COMMIT supported. */
  readonly reconcile: boolean;
  /** Stream errors (StreamError) for bad packet-outs, acks and packet-outs from backups. */
  readonly streamErrors: boolean;
  /** Default CPU port when the options do not name one. */
  readonly defaultCpuPort: number;
  /** Messages that must match the target word for word. */
  readonly dialect: 'spec' | 'pi';
}

const FULL: SimProfile = Object.freeze({
  name: 'full',
  apiVersion: '1.4.0',
  arbitration: 'spec',
  maxConnections: 64,
  deviceIds: 'spec',
  writesWithoutArbitration: false,
  bytestrings: 'padded-ok',
  atomicModes: true,
  registers: Object.freeze({ read: true, write: 'modify', maxBits: Number.POSITIVE_INFINITY, readSyncMs: 0 }),
  readResponses: 'stream',
  readErrors: 'spec',
  counterWrites: 'spec',
  counterIndexBeyondSize: 'out-of-range',
  getWithoutPipeline: 'empty',
  unconfiguredDigestRead: 'empty',
  idleTimeout: Object.freeze({ notifications: true, scanIntervalMs: 100, rule: 'spec', capElapsedAtTimeout: false, omitElapsedWithoutTimeout: false, remainingWrapsAt32Bits: false }),
  digests: Object.freeze({ timing: 'spec' }),
  deviceConfig: 'opaque',
  reconcile: true,
  streamErrors: true,
  defaultCpuPort: 255,
  dialect: 'spec',
} satisfies SimProfile);

const BMV2: SimProfile = Object.freeze({
  name: 'bmv2',
  apiVersion: '1.3.0',
  arbitration: 'highest-connected',
  maxConnections: 16,
  deviceIds: 'bmv2',
  writesWithoutArbitration: true,
  bytestrings: 'padded-ok',
  atomicModes: false,
  registers: Object.freeze({ read: false, write: 'none', maxBits: Number.POSITIVE_INFINITY, readSyncMs: 0 }),
  readResponses: 'single',
  readErrors: 'first-error',
  counterWrites: 'pi',
  counterIndexBeyondSize: 'unknown',
  getWithoutPipeline: 'failed-precondition',
  unconfiguredDigestRead: 'not-found',
  idleTimeout: Object.freeze({ notifications: true, scanIntervalMs: 1000, rule: 'whole-scans', capElapsedAtTimeout: true, omitElapsedWithoutTimeout: true, remainingWrapsAt32Bits: true }),
  digests: Object.freeze({ timing: 'bmv2-coarse' }),
  deviceConfig: 'bmv2-json',
  reconcile: true,
  streamErrors: false,
  defaultCpuPort: 255,
  dialect: 'pi',
} satisfies SimProfile);

const STRATUM_TOFINO: SimProfile = Object.freeze({
  name: 'stratum-tofino',
  apiVersion: '1.3.0',
  arbitration: 'spec',
  maxConnections: 64,
  deviceIds: 'spec',
  writesWithoutArbitration: false,
  bytestrings: 'padded-ok',
  atomicModes: false,
  registers: Object.freeze({ read: true, write: 'modify', maxBits: 64, readSyncMs: 2 }),
  readResponses: 'stream',
  readErrors: 'spec',
  counterWrites: 'spec',
  counterIndexBeyondSize: 'out-of-range',
  getWithoutPipeline: 'empty',
  unconfiguredDigestRead: 'empty',
  idleTimeout: Object.freeze({ notifications: false, scanIntervalMs: 1000, rule: 'spec', capElapsedAtTimeout: false, omitElapsedWithoutTimeout: false, remainingWrapsAt32Bits: false }),
  digests: Object.freeze({ timing: 'spec' }),
  deviceConfig: 'opaque',
  reconcile: true,
  streamErrors: true,
  defaultCpuPort: 320,
  dialect: 'spec',
} satisfies SimProfile);

const PROFILES: Readonly<Record<SimProfileName, SimProfile>> = Object.freeze({ full: FULL, bmv2: BMV2, 'stratum-tofino': STRATUM_TOFINO });

/** The profile of a given name; `canonicalBytestrings` turns on the opt-in strict bytestring check. */
export function simProfile(name: SimProfileName, canonicalBytestrings = false): SimProfile {
  const p = PROFILES[name];
  return canonicalBytestrings ? Object.freeze({ ...p, bytestrings: 'canonical-only' }) : p;
}

/**
 * The contract between the sim's P4Runtime server (which owns all state: tables, registers,
 * counters, digests, the stream) and a packet-processing program plugged in by name. A program
 * is a behavioural model of one P4 program; it reaches state only through `PipelineEnv`, so the
 * same state is what P4Runtime reads and writes.
 */

/** The result of applying a table to a key. */
export interface TableHit {
  /** Short action name as in the P4Info alias (e.g. `allow`), or full name if no alias. */
  readonly action: string;
  readonly params: Readonly<Record<string, bigint>>;
  /** False when no entry matched and the default action ran. */
  readonly hit: boolean;
}

/** What a program may do to the switch's state while processing one packet. */
export interface PipelineEnv {
  /**
   * Applies a table: matches `key` (field name -> value) against the entries, counts the direct
   * counter of the matching entry with `bytes`, refreshes its idle timer, and returns the action.
   * Names may be full names or aliases.
   */
  applyTable(table: string, key: Readonly<Record<string, bigint>>, bytes: number): TableHit;
  registerRead(register: string, index: number): bigint;
  registerWrite(register: string, index: number, value: bigint): void;
  /** Adds one packet of `bytes` to cell `index` of an indirect counter. */
  counterCount(counter: string, index: number, bytes: number): void;
  /** Emits one digest entry; fields are the digest struct's members by name. */
  digest(digest: string, fields: Readonly<Record<string, bigint>>): void;
  /** Monotonic data-plane clock in nanoseconds. */
  nowNs(): bigint;
}

/** One packet entering the pipeline. */
export interface PacketIngress {
  readonly ingressPort: number;
  readonly payload: Uint8Array;
  /** Present when the packet came from the controller (PacketOut), by metadata name. */
  readonly packetOutMetadata?: Readonly<Record<string, bigint>>;
}

/** What the pipeline did with a packet. */
export type PacketEgress =
  | { readonly kind: 'drop'; readonly reason?: string }
  | { readonly kind: 'forward'; readonly port: number; readonly payload: Uint8Array }
  /** To every replica of a multicast group (v1model `standard_metadata.mcast_grp`); an unknown group drops. */
  | { readonly kind: 'multicast'; readonly group: number; readonly payload: Uint8Array }
  | { readonly kind: 'to-cpu'; readonly payload: Uint8Array; readonly metadata: Readonly<Record<string, bigint>> };

/** A running instance of a program against one committed pipeline. */
export interface ProgramInstance {
  process(packet: PacketIngress, env: PipelineEnv): PacketEgress;
}

/** A packet-processing program, registered with the sim under the P4 program's name. */
export interface SimProgram {
  /** Matches `pkg_info.name` of the P4Info, or the BMv2 JSON's program name, or `--program`. */
  readonly name: string;
  /**
   * Initial default actions by table name or alias (the P4Info carries only const ones). Tables
   * not listed default to their const default action, else `NoAction` if they have it, else none.
   */
  readonly defaultActions?: Readonly<Record<string, { readonly action: string; readonly params?: Readonly<Record<string, bigint>> }>>;
  /**
   * Called on each pipeline commit; `cpuPort` is the port that means "to/from controller",
   * `registers` the committed P4Info's registers (a program built with compile-time options reads
   * its sizes and annotations there).
   */
  instantiate(options: InstantiateOptions): ProgramInstance;
}

/** A register of the committed P4Info, as a program sees it. */
export interface ProgramRegister {
  /** The alias (or the full name when there is none). */
  readonly name: string;
  readonly size: number;
  /** The cell's width (undefined: not a bit<W> cell). */
  readonly bitwidth: number | undefined;
  /** The preamble's annotations as written, e.g. `@migrate_hash("crc32" , 0 , 262144 , …)`. */
  readonly annotations: readonly string[];
}

/** What a program is instantiated with. */
export interface InstantiateOptions {
  readonly cpuPort: number;
  readonly registers?: readonly ProgramRegister[];
}

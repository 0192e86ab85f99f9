/**
 * The device API (issue 12, DESIGN.md §6): what a controller asks of the plugin beside one switch,
 * for one VM and one migration id. Transport-free: the controller calls it in process, and the
 * migration protocol (gRPC + mTLS) serves the same interface. Every call is idempotent — a retry
 * after a lost answer does no harm — and fails with a DeviceApiFailure carrying a reason from the
 * closed set the controller reports.
 */
import type { Observable } from 'rxjs';
import type { SchemaDescription } from './schema-description.js';
import type { PinholeExport } from '../pinhole-types.js';

/** Why a device refused or failed a call (the controller's failure reasons, device side). */
export const DEVICE_FAILURE_REASONS = [
  'CAPACITY_EXCEEDED',
  'SCHEMA_MISMATCH',
  'KEY_COLLISION',
  'DEVICE_UNREACHABLE',
  'NOT_PRIMARY',
  'UNSUPPORTED_STATE',
  'INCOMPLETE_STATE',
  'PEER_REJECTED',
  /** More migrations at once than this device tracks (see capabilities). */
  'CONCURRENCY_LIMIT',
  /** A call that the migration's phase on this device does not allow (e.g. activate before import). */
  'WRONG_PHASE',
  /** The caller is not entitled to this migration (ticket). */
  'UNAUTHORIZED',
] as const;

export type DeviceFailureReason = (typeof DEVICE_FAILURE_REASONS)[number];

/** State classes a device can hold (DESIGN.md §1). */
export type StateClass = 'tcp-state' | 'dynamic-acl' | 'counters';

/** What a device offers, for negotiation. */
export interface DeviceCapabilities {
  readonly device: string;
  /** Version of this API the device speaks. */
  readonly apiVersion: 1;
  readonly stateClasses: readonly StateClass[];
  /** A fingerprint per slot group and migratable table: names, widths, layout (equal = same schema). */
  readonly schema: Readonly<Record<string, string>>;
  readonly slots: { readonly total: number; readonly free: number };
  readonly registerAccess: 'p4runtime' | 'inband';
  /** How changes reach the controller: pushed notifications, pulled change logs. */
  readonly deltas: readonly ('push' | 'pull')[];
  /**
   * Its delta stream reports every pull when asked (ExportDeltasOptions.reportQuiet), also one
   * that found nothing, so a quiet round is told apart from a pull still under way. Absent
   * (false) from a peer that predates it.
   */
  readonly quietReports?: boolean;
  /**
   * Peer to peer: its transfer of the final delta can freeze first and activate a single
   * destination with the final batch (TransferMode `final` with `freeze`, `activate`), so the
   * pause is one call from the controller. Absent (false) from a peer that predates it.
   */
  readonly transferFreezes?: boolean;
  /**
   * Its abort honours AbortOptions.mayBeActive (a plugin restarted since the activation cleans the
   * VM's live state). Absent (false) from a peer that predates it: a rollback then leaves such a
   * destination to carryover recover.
   */
  readonly abortCleansActive?: boolean;
  /** Migrations this device can track at once. */
  readonly maxConcurrentMigrations: number;
  /**
   * A plugin daemon's own side, for peer to peer (its migration protocol's certificate and
   * configuration); absent in process and from a daemon that predates it.
   */
  readonly daemon?: DaemonIdentity;
  /** The flow key of its slot group, in hash order (what placement functions hash). */
  readonly keyFields: readonly { readonly name: string; readonly bits: number }[];
  /** The slot group's registers and their widths, so a schema mismatch can name what differs. */
  readonly registers?: readonly { readonly name: string; readonly bits: number }[];
  /**
   * The schema in comparable form (versioned): negotiation translates what differs compatibly
   * (a larger table, other hashes, a wider field) and names what cannot be translated. Absent
   * from a peer that predates it: then only identical fingerprints can be used.
   */
  readonly schemaDescription?: SchemaDescription;
}

/** Names one migration on this device. */
export interface MigrationRef {
  readonly migrationId: string;
  /** The VM as the device knows it (address or id). */
  readonly vm: string;
}

/** One flow's slot as it travels: fields by name (values above 53 bits are bigint). */
export interface SlotRecordOut {
  readonly fields: Readonly<Record<string, bigint>>;
}

/**
 * One entry of a migratable table (a dynamic ACL pinhole) as it travels: as the learner exports
 * it (key fields by name — the VM key field is rewritten to the destination's VM id —, action,
 * idle lifetime left at the source, which the destination keeps no longer, direct counter), and
 * the table's alias.
 */
export interface TableEntryRecord extends PinholeExport {
  /** Table alias. */
  readonly table: string;
}

/** A batch of the VM's state: a snapshot, or the changes since the last batch. */
export interface StateBatch {
  readonly migrationId: string;
  /** The exporting device's name (N:1: whose entries a complete list replaces). */
  readonly source?: string;
  /** 0 for the snapshot, then 1, 2, … per delta round. */
  readonly round: number;
  readonly slots: readonly SlotRecordOut[];
  /** Keys of flows that ended since the last batch (remove at the destination). */
  readonly removed: readonly Readonly<Record<string, bigint>>[];
  /** The data plane's own sequence marks this batch covers (completeness proof). */
  readonly coversSeq: { readonly from: bigint; readonly to: bigint };
  /**
   * The VM's entries of migratable tables, complete as of this batch's read (snapshot and final
   * batch only; undefined in delta rounds): the destination installs what is new, takes the
   * newer counter values, and removes entries it imported that are no longer listed.
   */
  readonly tableEntries?: readonly TableEntryRecord[];
  /** Per-VM counter values at the freeze (final batch only): added at the destination. */
  readonly counters?: Readonly<Record<string, { readonly packets: bigint; readonly bytes: bigint }>>;
  /**
   * The source's data-plane clock when the batch was read, in the unit of the slot group's
   * `@migrate_clock` field: the destination rebases each flow's timestamp by its age against it.
   */
  readonly clock?: bigint;
  /**
   * How the source proved the final batch complete: 'change-numbers' when every change since the
   * last installed round had arrived as a numbered delta digest (nothing read but the count),
   * 'change-log' when it read the change log and the slots it names. Final batch only.
   */
  readonly proof?: FinalProof;
}

/** How a final batch was proven complete (StateBatch.proof). */
export type FinalProof = 'change-numbers' | 'change-log';

/** What an import did. */
export interface ImportResult {
  readonly installed: number;
  /** Flows already present with the same key (a retry): counted, not written twice. */
  readonly alreadyPresent: number;
}

/** What a device holds of one VM now (DeviceApi.footprint): read, nothing written. */
export interface VmFootprint {
  readonly device: string;
  /** The VM's id on this switch; absent: the switch's VM map does not list the VM. */
  readonly vmId?: number;
  /** Whether its migration control entry lets it run here (false: a migration away left it, or not mapped). */
  readonly runsHere: boolean;
  /** Whether the VM has a control entry here (a migration touched it here before). */
  readonly controlled: boolean;
  /** Its occupied slots, when the device's slot index is complete; absent: only a scan would say. */
  readonly slots?: number;
  /** Whether the device's slot index is complete: only then are its free slots (capabilities) exact, not an upper bound. */
  readonly indexComplete: boolean;
  /** Migrations of the VM under way at this device, by id. */
  readonly migrations: readonly string[];
  /**
   * With no migration of the VM under way here: what its control entry still marks of one that did
   * not finish (its plugin restarted, or its controller stopped) — `frozen` drops the VM's traffic
   * here until `carryover recover` undoes it. Absent: nothing (or a peer that predates it).
   */
  readonly unfinished?: 'frozen' | 'staged' | 'tracked';
}

/** A plugin daemon as a peer-to-peer party (DeviceCapabilities.daemon). */
export interface DaemonIdentity {
  /** The names its certificate carries (subject CN, subjectAltName DNS and URI): what a destination's trustedCallers must list. */
  readonly identities: readonly string[];
  /** Whether its certificate may authenticate as a TLS client (extendedKeyUsage clientAuth, or no usage restriction): a source must. */
  readonly clientAuth: boolean;
  /** The callers it trusts (migration.trustedCallers). */
  readonly trustedCallers: readonly string[];
}

/** How a footprint is read (DeviceApi.footprint). */
export interface FootprintOptions {
  /** Wait for a scan of the slot group under way, so the VM's slots can be counted (in process; a daemon's index is complete from its start). */
  readonly awaitScan?: boolean;
}

/** How a delta stream reports (DeviceApi.exportDeltas). */
export interface ExportDeltasOptions {
  /**
   * A batch for every pull of the change log, also one that found nothing to carry (no slots, no
   * removals; its `coversSeq` is the log range read). Only a device whose capabilities say
   * `quietReports` honours it; others send only batches with changes.
   */
  readonly reportQuiet?: boolean;
}

/** Whether `b` carries nothing to install: a quiet report (ExportDeltasOptions.reportQuiet). */
export function isQuietBatch(b: StateBatch): boolean {
  return b.slots.length === 0 && b.removed.length === 0 && b.tableEntries === undefined && b.counters === undefined;
}

/** The device API, one instance per switch. */
export interface DeviceApi {
  capabilities(): Promise<DeviceCapabilities>;
  /** Optional: what this device holds of `vm` now, reading only (a check before a migration); undefined or absent: it cannot tell (an older peer). */
  footprint?(vm: string, o?: FootprintOptions): Promise<VmFootprint | undefined>;
  /** Sets the VM's control flags and starts this migration's change tracking. */
  prepare(m: MigrationRef): Promise<void>;
  exportSnapshot(m: MigrationRef): Promise<StateBatch>;
  /** Changes as they happen (pushed), ending when the migration is frozen or aborted. */
  exportDeltas(m: MigrationRef, o?: ExportDeltasOptions): Observable<StateBatch>;
  importStaged(m: MigrationRef, batch: StateBatch): Promise<ImportResult>;
  freeze(m: MigrationRef): Promise<void>;
  /**
   * Advisory, to a destination as the pause begins: get now what the pause's imports will need
   * (its data-plane clock, so the final batch's timestamps rebase without a round trip of their
   * own in the pause — carried forward from a recent reading, or read). Never fails; a device may
   * ignore it.
   */
  pauseStarted(m: MigrationRef): void;
  /**
   * Optional, to a source once its freeze is sent: the changes since `sinceSeq` that pushed
   * deltas already brought, taken while the freeze is on its way (nothing read from the switch),
   * so the destinations translate them while the source answers; a device may take only the
   * first of them (finalDelta brings the rest). Proves nothing: its `coversSeq` is empty.
   * finalDelta with the same `sinceSeq` then returns only the changes after these (the caller
   * installs this batch first). A device without it, or with nothing to offer, leaves everything
   * to finalDelta.
   */
  pauseDelta?(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch>;
  /**
   * Every change from the data plane's log since `sinceSeq` (the first sequence the controller
   * has not installed) up to the freeze: pushed deltas are an optimisation, this pull is the record.
   * After a pauseDelta with the same `sinceSeq`, the changes it returned are left out unless they
   * changed again (when the proof falls back to reading the log, everything since `sinceSeq` comes).
   */
  finalDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch>;
  /**
   * Optional: freeze, then finalDelta(m, sinceSeq), as one call — offered where a call costs a
   * round trip (a device over the network), so the pause waits for one instead of two. Absent,
   * the caller makes both calls.
   */
  freezeFinal?(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch>;
  /**
   * Optional: importStaged(m, batch), then activate(m) once it succeeded, as one call — a
   * destination's last step of the pause. Absent, the caller makes both calls.
   */
  importActivate?(m: MigrationRef, batch: StateBatch): Promise<ImportResult>;
  /**
   * The VM runs here from now on. `carried` (recovery only): the sources' per-VM counter values
   * this destination was sent in the final batch, as the coordinator journalled them — for a
   * device that no longer remembers the migration. They are added only where they are not held
   * yet: with the activation's atomic Write on a switch that applies one (the final batch left
   * them for it), never on a switch that added them with the final batch, never twice.
   */
  activate(m: MigrationRef, carried?: Readonly<Record<string, { readonly packets: bigint; readonly bytes: bigint }>>): Promise<void>;
  /**
   * Optional: the migration committed — a destination forgets what it kept to undo it (an abort
   * of it later undoes nothing here). Absent, a device keeps that until it sees fit.
   */
  committed?(m: MigrationRef): Promise<void>;
  /** Deletes the VM's state at this (source) device after `graceMs`, never a slot another flow took. */
  deleteAtSource(m: MigrationRef, graceMs: number): Promise<{ readonly deleted: number; readonly skipped: number }>;
  /** Undoes everything this migration did here: staged or active state removed, tracking stopped, unfrozen. */
  abort(m: MigrationRef, o?: AbortOptions): Promise<void>;
}

/** Options of DeviceApi.abort. */
export interface AbortOptions {
  /**
   * The pause began, so this destination may have been activated — which leaves no mark on its
   * switch. A device with no record of the migration (its plugin restarted) cleans the VM's live
   * state here, as after a commit, when the control entry marks nothing; with a record, or a mark,
   * the abort is as without it. Honoured where DeviceCapabilities.abortCleansActive says so.
   */
  readonly mayBeActive?: boolean;
}

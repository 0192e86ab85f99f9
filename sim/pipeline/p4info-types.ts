/**
 * The switch's own view of a P4Info's objects (p4info-index.ts builds it): tables, actions,
 * counters, registers, digests and controller headers, by the names and ids the switch checks
 * requests against.
 */

/** A match kind the sim implements (OTHER = an architecture-specific kind it cannot match on). */
export type MatchKind = 'EXACT' | 'LPM' | 'TERNARY' | 'RANGE' | 'OPTIONAL' | 'OTHER';

export interface MatchFieldInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
  readonly kind: MatchKind;
}

export interface ParamInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
}

export interface ActionInfo {
  readonly id: number;
  readonly name: string;
  /** Alias if the P4Info has one, else the full name. */
  readonly shortName: string;
  readonly params: readonly ParamInfo[];
  readonly paramById: ReadonlyMap<number, ParamInfo>;
  readonly paramIndex: ReadonlyMap<number, number>;
}

/** Where an action may be used in a table (P4Info ActionRef.Scope). */
export type ActionScope = 'TABLE_AND_DEFAULT' | 'TABLE_ONLY' | 'DEFAULT_ONLY';

export interface TableInfo {
  readonly id: number;
  readonly name: string;
  readonly shortName: string;
  readonly matchFields: readonly MatchFieldInfo[];
  readonly fieldById: ReadonlyMap<number, MatchFieldInfo>;
  /** Field by full name, and by its last dotted segment when that is unique. */
  readonly fieldByName: ReadonlyMap<string, MatchFieldInfo>;
  readonly actionScopes: ReadonlyMap<number, ActionScope>;
  readonly constDefaultActionId: number;
  readonly directCounterId: number;
  readonly directMeterId: number;
  readonly implementationId: number;
  /** 0 = the P4Info states no limit. */
  readonly size: number;
  readonly idleTimeoutNotify: boolean;
  readonly isConst: boolean;
  /** Any TERNARY, RANGE or OPTIONAL field: entries need a non-zero priority. */
  readonly needsPriority: boolean;
  readonly exactOnly: boolean;
  readonly hasLpm: boolean;
}

export interface CounterInfo {
  readonly id: number;
  readonly name: string;
  readonly shortName: string;
  readonly size: number;
  /** CounterSpec.unit: which of the counts a P4Runtime write addresses (the data plane counts both). */
  readonly unit: 'bytes' | 'packets' | 'both';
}

export interface DirectCounterInfo {
  readonly id: number;
  readonly name: string;
  readonly tableId: number;
}

/** The value type of a register the sim can store: an unsigned bitstring or a bool. */
export type CellType = { readonly kind: 'bit'; readonly bitwidth: number } | { readonly kind: 'bool' } | { readonly kind: 'unsupported'; readonly description: string };

export interface RegisterInfo {
  readonly id: number;
  readonly name: string;
  readonly shortName: string;
  readonly size: number;
  readonly cell: CellType;
}

/** One member of a digest's data: a bitstring of `bitwidth` bits. */
export interface DigestMember {
  readonly name: string;
  readonly bitwidth: number;
}

export interface DigestInfo {
  readonly id: number;
  readonly name: string;
  readonly shortName: string;
  /** `struct`/`tuple`: P4Data struct/tuple of bitstrings; `bitstring`: a single bitstring. */
  readonly shape: 'struct' | 'tuple' | 'bitstring';
  readonly members: readonly DigestMember[];
}

export interface ControllerMetadataInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
}

export interface ControllerHeaderInfo {
  readonly id: number;
  readonly name: string;
  readonly metadata: readonly ControllerMetadataInfo[];
  readonly metadataById: ReadonlyMap<number, ControllerMetadataInfo>;
}

/** The kinds of P4Info object the sim indexes. */
export type P4ObjectKind = 'table' | 'action' | 'counter' | 'direct counter' | 'meter' | 'direct meter' | 'register' | 'digest' | 'controller header' | 'action profile' | 'value set' | 'extern';

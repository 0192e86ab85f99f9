/**
 * The shapes P4Schema hands out: one info object per P4Info entity, with widths, annotations and
 * resolved cross-references (a table's actions, its direct counter), so callers never chase raw ids.
 */
import type { p4 } from '../proto/index.js';
import type { Annotation } from './annotations.js';

/** The kinds of P4Info entity P4Schema indexes. */
export type EntityKind =
  | 'table'
  | 'action'
  | 'action_profile'
  | 'counter'
  | 'direct_counter'
  | 'meter'
  | 'direct_meter'
  | 'controller_header'
  | 'value_set'
  | 'register'
  | 'digest';

/** What every indexed entity has: its P4Info preamble, parsed. */
export interface SchemaEntity {
  readonly kind: EntityKind;
  readonly id: number;
  /** Fully qualified name, e.g. `ingress.acl`. */
  readonly name: string;
  /** Short name p4c chose (unique in the P4Info), e.g. `acl`. */
  readonly alias: string;
  readonly annotations: readonly Annotation[];
  /** The first annotation with this name (with or without the `@`). */
  annotation(name: string): Annotation | undefined;
  /** `doc.brief` from the preamble, when present. */
  readonly brief?: string;
}

/** A P4 match kind P4Runtime defines, or 'other' for architecture-specific kinds. */
export type MatchType = 'exact' | 'lpm' | 'ternary' | 'range' | 'optional' | 'other';

/** One key field of a table or value set. */
export interface MatchFieldInfo {
  readonly id: number;
  readonly name: string;
  /** Width in bits; 0 only for fields whose type is translated to a string (`@p4runtime_translation`). */
  readonly bitwidth: number;
  readonly matchType: MatchType;
  /** The architecture-specific match kind name when matchType is 'other'. */
  readonly otherMatchType?: string;
  readonly annotations: readonly Annotation[];
}

/** One parameter of an action. */
export interface ParamInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
  readonly annotations: readonly Annotation[];
}

/** An action and its parameters. */
export interface ActionInfo extends SchemaEntity {
  readonly kind: 'action';
  readonly params: readonly ParamInfo[];
  /** A parameter by name or id; throws SCHEMA_LOOKUP with suggestions. */
  param(nameOrId: string | number): ParamInfo;
}

/** Where a table may use an action (P4Info ActionRef.Scope). */
export type ActionScope = 'table_and_default' | 'table_only' | 'default_only';

/** An action as a table refers to it. */
export interface ActionRefInfo {
  readonly action: ActionInfo;
  readonly scope: ActionScope;
  readonly annotations: readonly Annotation[];
}

/** Counter units (P4Info CounterSpec.Unit). */
export type CounterUnit = 'bytes' | 'packets' | 'both' | 'unspecified';
/** Meter units (P4Info MeterSpec.Unit). */
export type MeterUnit = 'bytes' | 'packets' | 'unspecified';

/** A table: key fields, allowed actions, size, and its direct resources. */
export interface TableInfo extends SchemaEntity {
  readonly kind: 'table';
  readonly matchFields: readonly MatchFieldInfo[];
  /** A key field by name or id; throws SCHEMA_LOOKUP with suggestions. */
  matchField(nameOrId: string | number): MatchFieldInfo;
  /** The actions this table allows, in P4Info order. */
  readonly actions: readonly ActionInfo[];
  readonly actionRefs: readonly ActionRefInfo[];
  /** One of this table's actions by name, alias or id; the error lists the allowed ones. */
  action(nameOrId: string | number): ActionInfo;
  readonly size: number;
  /** True when the table reports idle timeouts (idle_timeout_behavior NOTIFY_CONTROL). */
  readonly idleTimeout: boolean;
  readonly directCounter: DirectCounterInfo | undefined;
  readonly directMeter: DirectMeterInfo | undefined;
  /** The const default action's id, 0 when the default action may be changed. */
  readonly constDefaultActionId: number;
  /** Action profile / selector id, 0 when entries carry actions directly. */
  readonly implementationId: number;
  readonly isConst: boolean;
  /** True when any key is ternary, range or optional: entries then need a priority (spec §9.1). */
  readonly requiresPriority: boolean;
}

/** An indexed counter array. */
export interface CounterInfo extends SchemaEntity {
  readonly kind: 'counter';
  readonly size: number;
  readonly unit: CounterUnit;
}

/** A counter attached to a table's entries. */
export interface DirectCounterInfo extends SchemaEntity {
  readonly kind: 'direct_counter';
  readonly tableId: number;
  readonly unit: CounterUnit;
}

/** An indexed meter array. */
export interface MeterInfo extends SchemaEntity {
  readonly kind: 'meter';
  readonly size: number;
  readonly unit: MeterUnit;
}

/** A meter attached to a table's entries. */
export interface DirectMeterInfo extends SchemaEntity {
  readonly kind: 'direct_meter';
  readonly tableId: number;
  readonly unit: MeterUnit;
}

/** An action profile or selector. */
export interface ActionProfileInfo extends SchemaEntity {
  readonly kind: 'action_profile';
  readonly tableIds: readonly number[];
  readonly withSelector: boolean;
  readonly size: number;
  readonly maxGroupSize: number;
}

/** A parser value set. */
export interface ValueSetInfo extends SchemaEntity {
  readonly kind: 'value_set';
  readonly match: readonly MatchFieldInfo[];
  readonly size: number;
}

/** A register array. */
export interface RegisterInfo extends SchemaEntity {
  readonly kind: 'register';
  readonly size: number;
  /** Width of a `bit<W>` / `int<W>` cell; 0 when the cell type is not a bitstring. */
  readonly bitwidth: number;
  /** True for `int<W>` cells. */
  readonly signed: boolean;
  readonly typeSpec: p4.config.v1.P4DataTypeSpec.$Properties;
}

/** The type of one flattened digest member. */
export type MemberType = 'bit' | 'int' | 'varbit' | 'bool' | 'other';

/** One leaf member of a digest, with the path through nested structs / headers. */
export interface DigestMember {
  /** Dotted path, e.g. `index` or `key.src_addr`; `value` for a bare bitstring digest. */
  readonly name: string;
  /** Bit width (max width for varbit); 0 when the member is not a bitstring. */
  readonly bitwidth: number;
  readonly type: MemberType;
  /** The member's path from the digest's top-level type (empty for a bare bitstring digest). */
  readonly path: readonly string[];
}

/** A digest stream and the layout of its messages. */
export interface DigestInfo extends SchemaEntity {
  readonly kind: 'digest';
  /** Leaf members, flattened through type_info in declaration order. */
  readonly members: readonly DigestMember[];
  readonly typeSpec: p4.config.v1.P4DataTypeSpec.$Properties;
}

/** One metadata field of a packet-in / packet-out header. */
export interface ControllerMetadataInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
  readonly annotations: readonly Annotation[];
}

/** A `@controller_header` (packet_in / packet_out) and its metadata fields. */
export interface ControllerHeaderInfo extends SchemaEntity {
  readonly kind: 'controller_header';
  readonly metadata: readonly ControllerMetadataInfo[];
  /** A metadata field by name or id; throws SCHEMA_LOOKUP with suggestions. */
  metadataField(nameOrId: string | number): ControllerMetadataInfo;
}

/** The info type for each entity kind. */
export interface EntityByKind {
  table: TableInfo;
  action: ActionInfo;
  action_profile: ActionProfileInfo;
  counter: CounterInfo;
  direct_counter: DirectCounterInfo;
  meter: MeterInfo;
  direct_meter: DirectMeterInfo;
  controller_header: ControllerHeaderInfo;
  value_set: ValueSetInfo;
  register: RegisterInfo;
  digest: DigestInfo;
}

/** P4Ids.Prefix: the top byte of every P4Info id names its kind (p4info.proto). */
export const ID_PREFIX: Readonly<Record<EntityKind, number>> = Object.freeze({
  action: 0x01,
  table: 0x02,
  value_set: 0x03,
  controller_header: 0x04,
  action_profile: 0x11,
  counter: 0x12,
  direct_counter: 0x13,
  meter: 0x14,
  direct_meter: 0x15,
  register: 0x16,
  digest: 0x17,
});

/** Human wording per kind for messages ("no direct counter 'x'"). */
export const KIND_LABEL: Readonly<Record<EntityKind, string>> = Object.freeze({
  table: 'table',
  action: 'action',
  action_profile: 'action profile',
  counter: 'counter',
  direct_counter: 'direct counter',
  meter: 'meter',
  direct_meter: 'direct meter',
  controller_header: 'controller header',
  value_set: 'value set',
  register: 'register',
  digest: 'digest',
});

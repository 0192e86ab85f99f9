/**
 * P4Schema: an index over a P4Info. Every entity can be found by id, full name, alias, or a unique
 * dotted suffix of its full name (`acl` for `ingress.acl`); misses fail with "did you mean".
 * Construction validates the P4Info (ids, prefixes, references, widths, digest types) so the rest
 * of the library can trust what it reads here.
 */
import { readFileSync } from 'node:fs';
import { P4RuntimeError } from '../errors.js';
import { p4 } from '../proto/index.js';
import { suggest } from './did-you-mean.js';
import { parseP4InfoText } from './text-format.js';
import { Builder } from './p4info-builder.js';
import {
  ALL_KINDS,
  KIND_BY_PREFIX,
  a,
  describeCandidates,
  hexId,
} from './schema-entities.js';
import { KIND_LABEL } from './types.js';
import type {
  ActionInfo,
  ActionProfileInfo,
  ControllerHeaderInfo,
  CounterInfo,
  DigestInfo,
  DirectCounterInfo,
  DirectMeterInfo,
  EntityByKind,
  EntityKind,
  MeterInfo,
  RegisterInfo,
  SchemaEntity,
  TableInfo,
  ValueSetInfo,
} from './types.js';

type P4InfoMsg = p4.config.v1.P4Info;

const TEXT_EXTENSIONS = ['.txtpb', '.txt', '.pb.txt', '.textproto', '.textpb', '.prototxt', '.pbtxt'];
const BINARY_EXTENSIONS = ['.pb', '.bin', '.binpb'];

interface NameIndex {
  readonly list: SchemaEntity[];
  readonly full: Map<string, SchemaEntity>;
  readonly alias: Map<string, SchemaEntity[]>;
  readonly suffix: Map<string, SchemaEntity[]>;
}


/**
 * An index over one P4Info: look-ups by id, full name, alias or unique suffix, each failing with a
 * message that names the program and suggests near names.
 * @example
 * const schema = P4Schema.fromFile('build/inband.p4info.txtpb');
 * const acl = schema.table('acl');           // ingress.acl
 * acl.action('allow').param('port').bitwidth // 9
 */
export class P4Schema {
  /** The P4Info message itself (for SetForwardingPipelineConfig). */
  readonly p4info: P4InfoMsg;
  /** pkg_info.name, '' when the program did not set one. */
  readonly programName: string;
  readonly tables: readonly TableInfo[];
  readonly actions: readonly ActionInfo[];
  readonly actionProfiles: readonly ActionProfileInfo[];
  readonly counters: readonly CounterInfo[];
  readonly directCounters: readonly DirectCounterInfo[];
  readonly meters: readonly MeterInfo[];
  readonly directMeters: readonly DirectMeterInfo[];
  readonly controllerHeaders: readonly ControllerHeaderInfo[];
  readonly valueSets: readonly ValueSetInfo[];
  readonly registers: readonly RegisterInfo[];
  readonly digests: readonly DigestInfo[];

  private readonly ids = new Map<number, SchemaEntity>();
  private readonly index = new Map<EntityKind, NameIndex>();

  private constructor(p4info: P4InfoMsg) {
    this.p4info = p4info;
    this.programName = p4info.pkgInfo?.name ?? '';
    const b = new Builder(p4info, this.programLabel());
    this.actions = b.actions;
    this.tables = b.tables;
    this.actionProfiles = b.actionProfiles;
    this.counters = b.counters;
    this.directCounters = b.directCounters;
    this.meters = b.meters;
    this.directMeters = b.directMeters;
    this.controllerHeaders = b.controllerHeaders;
    this.valueSets = b.valueSets;
    this.registers = b.registers;
    this.digests = b.digests;
    for (const k of ALL_KINDS) this.index.set(k, { list: [], full: new Map(), alias: new Map(), suffix: new Map() });
    for (const e of b.all) {
      const ix = this.index.get(e.kind) as NameIndex;
      ix.list.push(e);
      ix.full.set(e.name, e);
      push(ix.alias, e.alias, e);
      const parts = e.name.split('.');
      for (let i = 1; i < parts.length; i++) push(ix.suffix, parts.slice(i).join('.'), e);
      this.ids.set(e.id, e);
    }
    Object.freeze(this);
  }

  /** Indexes a P4Info message (or its plain properties) after validating it. */
  static fromP4Info(p4info: P4InfoMsg | p4.config.v1.P4Info.$Properties): P4Schema {
    const msg = p4info instanceof p4.config.v1.P4Info ? p4info : p4.config.v1.P4Info.fromObject(p4info as Record<string, unknown>);
    return new P4Schema(msg);
  }

  /** Indexes a binary-encoded P4Info. */
  static fromBinary(bytes: Uint8Array, source = '<binary>'): P4Schema {
    let msg: P4InfoMsg;
    try {
      msg = p4.config.v1.P4Info.decode(bytes);
    } catch (e) {
      throw new P4RuntimeError('SCHEMA_INVALID', `${source}: not a binary P4Info: ${(e as Error).message}`, { cause: e });
    }
    return new P4Schema(msg);
  }

  /** Indexes a P4Info in protobuf text format (p4c's `*.p4info.txtpb`). */
  static fromText(text: string, source = '<text>'): P4Schema {
    return new P4Schema(parseP4InfoText(text, { source }));
  }

  /** Reads a P4Info file: `.txtpb`/`.txt`/`.pb.txt` as text, `.pb`/`.bin` as binary, else by content. */
  static fromFile(path: string): P4Schema {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new P4RuntimeError('SCHEMA_INVALID', `cannot read P4Info file '${path}': ${(e as Error).message}`, { cause: e });
    }
    const lower = path.toLowerCase();
    const asText = TEXT_EXTENSIONS.some((x) => lower.endsWith(x))
      ? true
      : BINARY_EXTENSIONS.some((x) => lower.endsWith(x))
        ? false
        : looksLikeText(data);
    try {
      return asText ? P4Schema.fromText(data.toString('utf8'), path) : P4Schema.fromBinary(data, path);
    } catch (e) {
      if (e instanceof P4RuntimeError && !e.message.includes(path)) {
        throw new P4RuntimeError(e.code, `${path}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  /** A table by name, alias, suffix or id. */
  table(x: string | number): TableInfo {
    return this.get('table', x);
  }
  /** An action by name, alias, suffix or id. */
  action(x: string | number): ActionInfo {
    return this.get('action', x);
  }
  /** An action profile by name, alias, suffix or id. */
  actionProfile(x: string | number): ActionProfileInfo {
    return this.get('action_profile', x);
  }
  /** An indexed counter by name, alias, suffix or id. */
  counter(x: string | number): CounterInfo {
    return this.get('counter', x);
  }
  /** A direct counter by name, alias, suffix or id. */
  directCounter(x: string | number): DirectCounterInfo {
    return this.get('direct_counter', x);
  }
  /** An indexed meter by name, alias, suffix or id. */
  meter(x: string | number): MeterInfo {
    return this.get('meter', x);
  }
  /** A direct meter by name, alias, suffix or id. */
  directMeter(x: string | number): DirectMeterInfo {
    return this.get('direct_meter', x);
  }
  /** A register by name, alias, suffix or id. */
  register(x: string | number): RegisterInfo {
    return this.get('register', x);
  }
  /** A digest by name, alias, suffix or id. */
  digest(x: string | number): DigestInfo {
    return this.get('digest', x);
  }
  /** A controller header (`packet_in` / `packet_out`) by name or id. */
  controllerHeader(x: string | number): ControllerHeaderInfo {
    return this.get('controller_header', x);
  }
  /** A parser value set by name, alias, suffix or id. */
  valueSet(x: string | number): ValueSetInfo {
    return this.get('value_set', x);
  }

  /** Any entity of `kind`, typed; throws SCHEMA_LOOKUP with "did you mean". */
  get<K extends EntityKind>(kind: K, x: string | number): EntityByKind[K] {
    const hit = this.resolve(kind, x, true);
    return hit as EntityByKind[K];
  }

  /** Any entity of `kind`, or undefined (never throws for a miss). */
  find(kind: EntityKind, x: string | number): SchemaEntity | undefined {
    return this.resolve(kind, x, false);
  }

  /** Any entity by id, whatever its kind; throws SCHEMA_LOOKUP when absent. */
  byId(id: number): SchemaEntity {
    const e = this.ids.get(id);
    if (e) return e;
    const k = KIND_BY_PREFIX.get(id >>> 24);
    const hint = k ? `; its prefix 0x${(id >>> 24).toString(16).padStart(2, '0')} would make it ${a(KIND_LABEL[k])}` : '';
    throw new P4RuntimeError('SCHEMA_LOOKUP', `no entity with id ${hexId(id)} (${id}) in P4Info${this.programLabel()}${hint}`);
  }

  private programLabel(): string {
    return this.programName ? ` of program ${this.programName}` : '';
  }

  private resolve(kind: EntityKind, x: string | number, raise: boolean): SchemaEntity | undefined {
    const label = KIND_LABEL[kind];
    if (typeof x === 'number') {
      const e = this.ids.get(x);
      if (e && e.kind === kind) return e;
      if (!raise) return undefined;
      if (e) throw new P4RuntimeError('SCHEMA_LOOKUP', `id ${hexId(x)} is the ${KIND_LABEL[e.kind]} '${e.name}', not ${a(label)}`);
      throw new P4RuntimeError('SCHEMA_LOOKUP', `no ${label} with id ${hexId(x)} (${x}) in P4Info${this.programLabel()}`);
    }
    if (typeof x !== 'string') {
      if (!raise) return undefined;
      throw new P4RuntimeError('SCHEMA_LOOKUP', `${a(label)} is named by a string or a numeric id, got ${typeof x}`);
    }
    const ix = this.index.get(kind) as NameIndex;
    const full = ix.full.get(x);
    if (full) return full;
    for (const m of [ix.alias, ix.suffix]) {
      const hits = m.get(x);
      if (hits && hits.length === 1) return hits[0];
      if (hits && hits.length > 1) {
        if (!raise) return undefined;
        throw new P4RuntimeError('SCHEMA_LOOKUP', `${label} name '${x}' is ambiguous in P4Info${this.programLabel()}: ${hits.map((h) => h.name).join(', ')}; use the full name`);
      }
    }
    if (!raise) return undefined;
    const cands = suggest(x, ix.list.flatMap((e) => [e.name, e.alias]));
    let msg = `no ${label} '${x}' in P4Info${this.programLabel()}`;
    for (const k of ALL_KINDS) {
      const other = k === kind ? undefined : this.resolve(k, x, false);
      if (other) {
        msg += `: '${x}' is the ${KIND_LABEL[k]} ${other.name}`;
        break;
      }
    }
    if (cands.length > 0) msg += `; did you mean ${describeCandidates(cands, ix.list)}?`;
    else if (ix.list.length === 0) msg += ` (it has no ${label}s)`;
    else if (ix.list.length <= 12) msg += ` (${label}s: ${ix.list.map((e) => e.alias || e.name).join(', ')})`;
    throw new P4RuntimeError('SCHEMA_LOOKUP', msg);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function looksLikeText(data: Buffer): boolean {
  const head = data.subarray(0, 512);
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20)) return false;
  return true;
}

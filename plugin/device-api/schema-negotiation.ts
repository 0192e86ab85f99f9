/**
 * Capability negotiation's schema verdict (issue 14): a source/destination pair is identical,
 * translated (the destination holds the same state differently: a larger or smaller table, other
 * hashes or regions, a wider field, a field in another register), or incompatible (state would be
 * lost or misread: a missing field, register, table or counter, a narrower field, another flow or
 * table key, another clock unit). Pure: capabilities in, verdict out, every reason in operator
 * terms. The translations themselves happen at the destination's import: flows travel by field
 * name, are packed into its layout, and are placed by its own hashes and size.
 */
import type { DeviceCapabilities } from './device-api.js';
import { schemaDifferences } from './schema-difference.js';
import { SCHEMA_DESCRIPTION_VERSION } from './schema-description.js';
import type { CounterSchema, SchemaField, SlotGroupSchema, TableSchema } from './schema-description.js';

/** How a source's state can reach a destination. */
export type SchemaVerdict =
  | { readonly kind: 'identical' }
  | { readonly kind: 'translated'; readonly translations: readonly string[] }
  | { readonly kind: 'incompatible'; readonly reasons: readonly string[]; readonly translations: readonly string[] };

/** What one comparison found. */
interface Found {
  readonly translated: string[];
  readonly refused: string[];
}

const byName = <T>(xs: readonly T[], name: (x: T) => string): Map<string, T> => new Map(xs.map((x) => [name(x), x]));
const list = (xs: readonly string[]): string => xs.join(', ');

function fingerprintsEqual(a: DeviceCapabilities, b: DeviceCapabilities): boolean {
  const keys = new Set([...Object.keys(a.schema), ...Object.keys(b.schema)]);
  return [...keys].every((k) => a.schema[k] !== undefined && a.schema[k] === b.schema[k]);
}

/** Hash choices as an operator reads them: algorithms in probe order, then each region. */
const algorithms = (g: SlotGroupSchema): string => g.hashes.map((h) => h.algorithm).join('/');
const regions = (g: SlotGroupSchema): string => `${g.hashes.map((h) => `${h.algorithm} [${h.base}, ${h.base + h.size})`).join(', ')} in buckets of ${g.ways}`;

/** Fields one side has that the other lacks: a whole register when all of its fields are missing and the register too. */
function missing(fields: readonly SchemaField[], other: ReadonlyMap<string, SchemaField>, otherRegisters: ReadonlySet<string>, at: string, notAt: string, consequence: string): string[] {
  const out: string[] = [];
  const gone = fields.filter((f) => !other.has(f.name));
  const registers = [...new Set(gone.map((f) => f.register))];
  for (const r of registers) {
    const all = fields.filter((f) => f.register === r);
    const lost = gone.filter((f) => f.register === r);
    if (lost.length === all.length && !otherRegisters.has(r)) out.push(`register '${r}' (${list(all.map((f) => `${f.name}:${f.bits}`))}) exists at ${at}, not at ${notAt} — ${consequence}`);
    else for (const f of lost) out.push(`field '${f.name}' (${f.bits} bits, register '${f.register}') exists at ${at}, not at ${notAt} — ${consequence}`);
  }
  return out;
}

function compareGroup(a: SlotGroupSchema, b: SlotGroupSchema, an: string, bn: string, out: Found): void {
  const g = `slot group '${a.name}'`;
  const t = (s: string): number => out.translated.push(`${a.name}: ${s}`);
  const r = (s: string): number => out.refused.push(`${g}: ${s}`);
  if (a.slots !== b.slots) t(`${a.slots} slots at ${an}, ${b.slots} at ${bn} — placed by ${bn}'s size${b.slots < a.slots ? " (the VM's flows must fit: checked before staging)" : ''}`);
  if (algorithms(a) !== algorithms(b)) t(`placement ${algorithms(a)} at ${an} vs ${algorithms(b)} at ${bn} — placed by ${bn}'s hashes`);
  else if (regions(a) !== regions(b)) t(`hash regions ${regions(a)} at ${an} vs ${regions(b)} at ${bn} — placed by ${bn}'s regions`);

  const ak = a.keyFields.map((k) => k.name);
  const bk = b.keyFields.map((k) => k.name);
  if ([...ak].sort().join(' ') !== [...bk].sort().join(' ')) r(`the flow key differs: (${list(ak)}) at ${an}, (${list(bk)}) at ${bn} — a flow could not be found again`);
  else if (ak.join(' ') !== bk.join(' ')) t(`hash input order (${list(ak)}) at ${an} vs (${list(bk)}) at ${bn} — placed by ${bn}'s order`);
  if (a.validField !== b.validField) r(`the occupied-slot field is '${a.validField}' at ${an} but '${b.validField}' at ${bn}`);
  if (a.vmField !== b.vmField) r(`the VM id field is '${a.vmField}' at ${an} but '${b.vmField}' at ${bn}`);
  if (a.clock && b.clock) {
    if (a.clock.field !== b.clock.field) r(`the clock field is '${a.clock.field}' at ${an} but '${b.clock.field}' at ${bn}`);
    if (a.clock.unit !== b.clock.unit) r(`the clock counts ${a.clock.unit} at ${an} but ${b.clock.unit} at ${bn} — timestamps are rebased by age within one unit, not converted`);
  } else if (a.clock || b.clock) r(`a clock field (rebased timestamps) at ${a.clock ? an : bn} only`);

  const af = byName(a.fields, (f) => f.name);
  const bf = byName(b.fields, (f) => f.name);
  // The VM id and the clock are rewritten by the destination (its own id, its own clock): their widths need not match.
  const rewritten = new Set([b.vmField, ...(b.clock ? [b.clock.field] : [])]);
  for (const f of a.fields) {
    const x = bf.get(f.name);
    if (!x) continue;
    if (x.bits !== f.bits) {
      if (rewritten.has(f.name)) t(`field '${f.name}' ${f.bits} → ${x.bits} bits — rewritten by ${bn} (${f.name === b.vmField ? 'its own VM id' : 'rebased to its clock'})`);
      else if (x.bits > f.bits) t(`field '${f.name}' widened ${f.bits} → ${x.bits} bits`);
      else r(`field '${f.name}' is ${f.bits} bits at ${an} but ${x.bits} bits at ${bn} — values might not fit`);
    }
    if (x.register !== f.register) t(`field '${f.name}' moves from register '${f.register}' (${an}) to '${x.register}' (${bn}) — packed by field name`);
  }
  for (const m of missing(a.fields, bf, new Set(b.fields.map((f) => f.register)), an, bn, 'its values would be lost')) r(m);
  for (const m of missing(b.fields, af, new Set(a.fields.map((f) => f.register)), bn, an, `${bn}'s pipeline would find no value for it`)) r(m);
}

function compareTable(a: TableSchema, b: TableSchema, an: string, bn: string, out: Found): void {
  const r = (s: string): number => out.refused.push(`table '${a.table}': ${s}`);
  const shape = (x: TableSchema): string => x.keyFields.map((k) => `${k.name} ${k.matchType}`).join(', ');
  if (shape(a) !== shape(b)) r(`the key differs: (${shape(a)}) at ${an}, (${shape(b)}) at ${bn} — entries would match other packets`);
  else {
    for (const [i, k] of a.keyFields.entries()) {
      const bits = b.keyFields[i]?.bits ?? 0;
      if (bits > k.bits) out.translated.push(`table '${a.table}': key field '${k.name}' widened ${k.bits} → ${bits} bits`);
      else if (bits < k.bits) r(`key field '${k.name}' is ${k.bits} bits at ${an} but ${bits} bits at ${bn} — values might not fit`);
    }
  }
  if (a.vmKeyField !== b.vmKeyField) r(`the VM key field is '${a.vmKeyField}' at ${an} but '${b.vmKeyField}' at ${bn}`);
  if (a.idleTimeout !== b.idleTimeout) r(`entries ${a.idleTimeout ? 'expire when idle' : 'never expire'} at ${an} but ${b.idleTimeout ? 'expire when idle' : 'never expire'} at ${bn}`);
  if (a.directCounter && !b.directCounter) r(`entries are counted at ${an}, not at ${bn} — their counts would be lost`);
  else if (!a.directCounter && b.directCounter) out.translated.push(`table '${a.table}': entries are counted at ${bn} only — counted from zero there`);
}

function compareCounter(a: CounterSchema, b: CounterSchema, an: string, bn: string, out: Found): void {
  if (a.unit !== b.unit) out.refused.push(`counter '${a.counter}' counts ${a.unit} at ${an} but ${b.unit} at ${bn}`);
  if (b.size < a.size) out.translated.push(`counter '${a.counter}': ${a.size} cells at ${an}, ${b.size} at ${bn} — the VM's id at ${bn} must be below ${b.size} (${bn} checks it before staging)`);
}

/** Compares every slot group, table and counter of two described schemas. */
function compareDescribed(a: DeviceCapabilities, b: DeviceCapabilities): Found {
  const out: Found = { translated: [], refused: [] };
  const an = a.device;
  const bn = b.device;
  const da = a.schemaDescription;
  const db = b.schemaDescription;
  if (!da || !db) return out;
  const pairs = <T>(xs: readonly T[], ys: readonly T[], name: (x: T) => string, what: string, compare: (x: T, y: T) => void, onlyAtB: (y: T) => void): void => {
    const ym = byName(ys, name);
    for (const x of xs) {
      const y = ym.get(name(x));
      if (y) compare(x, y);
      else out.refused.push(`${what} '${name(x)}' exists at ${an}, not at ${bn} — its state would be lost`);
    }
    const xm = byName(xs, name);
    for (const y of ys) if (!xm.has(name(y))) onlyAtB(y);
  };
  pairs(da.groups, db.groups, (g) => g.name, 'slot group', (x, y) => compareGroup(x, y, an, bn, out), (y) => out.refused.push(`slot group '${y.name}' exists at ${bn}, not at ${an} — ${bn} expects state ${an} does not hold`));
  pairs(da.tables, db.tables, (t) => t.table, 'table', (x, y) => compareTable(x, y, an, bn, out), (y) => out.translated.push(`table '${y.table}' exists at ${bn} only — it starts empty there`));
  pairs(da.counters, db.counters, (c) => c.counter, 'counter', (x, y) => compareCounter(x, y, an, bn, out), (y) => out.translated.push(`counter '${y.counter}' exists at ${bn} only — the VM's cell counts from zero there`));
  return out;
}

/**
 * The verdict for moving `source`'s state to `destination`: identical fingerprints need nothing;
 * otherwise both sides' schema descriptions are compared (a side without one, or with a version
 * this side does not know, can only be used when identical).
 */
export function negotiateSchemas(source: DeviceCapabilities, destination: DeviceCapabilities): SchemaVerdict {
  if (fingerprintsEqual(source, destination)) return { kind: 'identical' };
  const unknown = [source, destination].filter((c) => c.schemaDescription?.version !== SCHEMA_DESCRIPTION_VERSION);
  if (unknown.length > 0) {
    const differing = [...new Set([...Object.keys(source.schema), ...Object.keys(destination.schema)])].filter((k) => source.schema[k] !== destination.schema[k]);
    const why = schemaDifferences(source, destination);
    return {
      kind: 'incompatible',
      translations: [],
      reasons: [
        ...(why.length > 0 ? why : differing.map((k) => `${k} has schema ${source.schema[k] ?? '(missing)'} at ${source.device} but ${destination.schema[k] ?? '(missing)'} at ${destination.device}`)),
        ...unknown.map((c) => `${c.device} ${c.schemaDescription ? `describes its schema in version ${c.schemaDescription.version} (this side reads version ${SCHEMA_DESCRIPTION_VERSION})` : 'does not describe its schema'}, so only an identical schema can be used`),
      ],
    };
  }
  const found = compareDescribed(source, destination);
  // Fingerprints cover bit positions inside registers too: same fields, other packing, is still a translation.
  const translations = found.translated.length > 0 || found.refused.length > 0 ? found.translated : [`register layout differs between ${source.device} and ${destination.device} (same fields and widths) — packed by field name`];
  if (found.refused.length > 0) return { kind: 'incompatible', reasons: found.refused, translations };
  return { kind: 'translated', translations };
}

/** The verdicts of every source/destination pair of a migration, gathered. */
export interface MigrationSchemaVerdict {
  /** What the destinations translate, each once, in pair order. */
  readonly translations: readonly string[];
  /** Why pairs are incompatible (empty: the migration may proceed), each naming the pair. */
  readonly reasons: readonly string[];
}

/** Negotiates every (source, destination) pair: translations to log and record, reasons to refuse with. */
export function negotiateMigrationSchemas(sources: readonly DeviceCapabilities[], destinations: readonly DeviceCapabilities[]): MigrationSchemaVerdict {
  const translations = new Set<string>();
  const reasons: string[] = [];
  for (const s of sources) {
    for (const d of destinations) {
      if (s.device === d.device) continue;
      const v = negotiateSchemas(s, d);
      if (v.kind === 'identical') continue;
      for (const t of v.translations) translations.add(t);
      if (v.kind === 'incompatible') for (const x of v.reasons) reasons.push(`${s.device} → ${d.device}: ${x}`);
    }
  }
  return { translations: [...translations], reasons };
}

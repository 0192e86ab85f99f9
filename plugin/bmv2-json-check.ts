/**
 * Do a P4Info and a BMv2 JSON come from the same p4c run? BMv2 takes table sizes, register and
 * counter arrays from the JSON, so with a P4Info of another build (another size, another variant)
 * the controller works from a description of some other program: writes past a smaller table
 * fail, capacity claims are wrong. The plugin (before it pushes) and hw-test compare the two first.
 */
import type { P4Schema } from 'p4runtime-ts';

/** What a BMv2 JSON declares; a section it leaves out (a hand-made stand-in) is undefined and not compared. */
interface JsonArrays {
  /** Table name → max_size (undefined when not given), and whether it matches on a key (p4c's own action tables do not). */
  readonly tables: Map<string, { readonly size: number | undefined; readonly keyed: boolean }>;
  readonly registers: Map<string, { size: number; bitwidth: number }> | undefined;
  readonly counters: Map<string, number> | undefined;
}

/** The tables, register arrays and indirect counter arrays of a BMv2 JSON, or undefined when `bytes` is not one. */
function jsonArrays(bytes: Uint8Array): JsonArrays | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  const o = doc as { pipelines?: unknown; register_arrays?: unknown; counter_arrays?: unknown } | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.pipelines)) return undefined;
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : []);
  const tables = new Map<string, { size: number | undefined; keyed: boolean }>();
  for (const p of list(o.pipelines)) for (const t of list(p['tables'])) if (typeof t['name'] === 'string') tables.set(t['name'], { size: typeof t['max_size'] === 'number' ? t['max_size'] : undefined, keyed: Array.isArray(t['key']) && t['key'].length > 0 });
  const registers = Array.isArray(o.register_arrays) ? new Map<string, { size: number; bitwidth: number }>() : undefined;
  for (const r of list(o.register_arrays)) if (typeof r['name'] === 'string') registers?.set(r['name'], { size: Number(r['size']), bitwidth: Number(r['bitwidth']) });
  const counters = Array.isArray(o.counter_arrays) ? new Map<string, number>() : undefined;
  for (const c of list(o.counter_arrays)) if (typeof c['name'] === 'string' && c['is_direct'] !== true) counters?.set(c['name'], Number(c['size']));
  return { tables, registers, counters };
}

/**
 * How `json` disagrees with `schema` (names missing, sizes or widths differing), readable; an
 * empty list when they agree. undefined when `json` is not a BMv2 JSON at all.
 */
export function bmv2JsonDifferences(schema: P4Schema, json: Uint8Array): string[] | undefined {
  const j = jsonArrays(json);
  if (!j) return undefined;
  const out: string[] = [];
  for (const t of schema.tables) {
    if (!j.tables.has(t.name)) out.push(`table '${t.name}' is not in the JSON`);
    const size = j.tables.get(t.name)?.size;
    if (size !== undefined && size !== t.size) out.push(`table '${t.name}': size ${t.size} in the P4Info, ${size} in the JSON`);
  }
  // A table the program matches on that the P4Info leaves out (an edited P4Info, another build):
  // the controller could neither see nor write it. p4c's own keyless tables (tbl_*) are never in a P4Info.
  const described = new Set(schema.tables.map((t) => t.name));
  for (const [name, t] of j.tables) if (t.keyed && !described.has(name)) out.push(`table '${name}' is in the JSON but not in the P4Info`);
  const registers = j.registers;
  for (const r of registers ? schema.registers : []) {
    const a = registers?.get(r.name);
    if (a === undefined) out.push(`register '${r.name}' is not in the JSON`);
    else if (a.size !== r.size || a.bitwidth !== r.bitwidth) out.push(`register '${r.name}': ${r.size} × bit<${r.bitwidth}> in the P4Info, ${a.size} × bit<${a.bitwidth}> in the JSON`);
  }
  const counters = j.counters;
  for (const c of counters ? schema.counters : []) {
    const size = counters?.get(c.name);
    if (size === undefined) out.push(`counter '${c.name}' is not in the JSON`);
    else if (size !== c.size) out.push(`counter '${c.name}': size ${c.size} in the P4Info, ${size} in the JSON`);
  }
  return out;
}

/** The first `max` differences joined for a message, with how many more there are. */
export function listDifferences(diffs: readonly string[], max = 5): string {
  return diffs.slice(0, max).join('; ') + (diffs.length > max ? `; … and ${diffs.length - max} more` : '');
}

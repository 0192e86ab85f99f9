/**
 * The BMv2 device config: the JSON `p4c-bm2-ss` writes. The bmv2 profile accepts only that, as
 * simple_switch_grpc does, and takes the behavioural model's name from its `program` field
 * (`"./l2_echo.p4i"` -> `l2_echo`).
 */
import { fail } from '../p4rt/status.js';
import type { P4InfoIndex } from './p4info-index.js';

/** What the sim reads out of a BMv2 JSON. */
export interface Bmv2JsonInfo {
  /** Program name from the `program` field, without path or extension; '' when absent. */
  readonly programName: string;
  readonly tableNames: readonly string[];
}

/** Parses and checks a BMv2 JSON against the P4Info; throws INVALID_ARGUMENT naming what is wrong. */
export function parseBmv2Json(bytes: Uint8Array, index: P4InfoIndex): Bmv2JsonInfo {
  if (bytes.length === 0) {
    throw fail.invalid('p4_device_config is empty; BMv2 needs the JSON written by p4c-bm2-ss (p4c-bm2-ss prog.p4 -o prog.json) as raw bytes');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw fail.invalid(`p4_device_config is not a BMv2 JSON (${bytes.length} bytes): ${e instanceof Error ? e.message : String(e)}; send the JSON written by p4c-bm2-ss`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fail.invalid('p4_device_config is JSON but not an object; send the BMv2 JSON written by p4c-bm2-ss');
  const o = doc as Record<string, unknown>;
  if (!Array.isArray(o['pipelines'])) throw fail.invalid("p4_device_config is not a BMv2 JSON: it has no 'pipelines' array; send the JSON written by p4c-bm2-ss");
  const tableNames: string[] = [];
  for (const p of o['pipelines'] as unknown[]) {
    const tables = (p as { tables?: unknown } | null)?.tables;
    if (Array.isArray(tables)) for (const t of tables) if (typeof (t as { name?: unknown })?.name === 'string') tableNames.push((t as { name: string }).name);
  }
  if (tableNames.length > 0) {
    const missing = [...index.tables.values()].filter((t) => !tableNames.includes(t.name)).map((t) => t.name);
    if (missing.length > 0) throw fail.invalid(`the P4Info and the BMv2 JSON disagree: table(s) ${missing.join(', ')} are in the P4Info but not in the JSON; push the P4Info and JSON of the same p4c run`);
  }
  const program = typeof o['program'] === 'string' ? (o['program'] as string) : '';
  const base = program.split(/[\\/]/).pop() ?? '';
  return { programName: base.replace(/\.(p4i|p4)$/i, ''), tableNames };
}

/** A minimal BMv2 JSON naming `program` and the tables of a P4Info, for tests and the bench. */
export function minimalBmv2Json(program: string, tableNames: readonly string[] = []): Uint8Array {
  const doc = {
    __meta__: { version: [2, 23], compiler: 'carryover sim (stand-in for p4c-bm2-ss output)' },
    program: `./${program}.p4i`,
    pipelines: [{ name: 'ingress', init_table: tableNames[0] ?? null, tables: tableNames.map((name, i) => ({ name, id: i })) }],
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/**
 * Is the target running the pipeline hw-test was given? The P4Infos are compared by what matters
 * to a controller — every entity's id, name, widths, sizes, keys, parameters and annotations —
 * rather than by bytes (two tools encode the same P4Info differently). With a device config the
 * cookie must match too (p4runtime-ts derives it from P4Info + device config).
 */
import { P4Schema } from 'p4runtime-ts';
import type { PipelineConfig, SchemaEntity } from 'p4runtime-ts';

/** The verdict on the target's pipeline. */
export interface PipelineIdentity {
  readonly kind: 'match' | 'missing' | 'different';
  /** First differences, readable (`table 'x': size expected 1024, target 512`). */
  readonly differences: readonly string[];
  readonly targetCookie: bigint | undefined;
  /** Our cookie, when a device config was given. */
  readonly expectedCookie: bigint | undefined;
}

type Props = Record<string, string>;

function annotationsOf(e: SchemaEntity): string {
  return e.annotations.map((a) => a.raw).join(' ');
}

/** Every entity as kind+name → its controller-relevant properties. */
function fingerprint(s: P4Schema): Map<string, Props> {
  const out = new Map<string, Props>();
  const put = (kind: string, e: SchemaEntity, props: Props): void => {
    out.set(`${kind} '${e.name}'`, { id: `0x${e.id.toString(16)}`, annotations: annotationsOf(e), ...props });
  };
  for (const t of s.tables) {
    put('table', t, {
      size: String(t.size),
      keys: t.matchFields.map((f) => `${f.id}:${f.name}:${f.bitwidth}:${f.matchType}`).join(','),
      actions: t.actionRefs.map((r) => `${r.action.id}:${r.scope}`).join(','),
      idleTimeout: String(t.idleTimeout),
      directCounter: t.directCounter ? String(t.directCounter.id) : '-',
      constDefault: String(t.constDefaultActionId),
    });
  }
  for (const a of s.actions) put('action', a, { params: a.params.map((p) => `${p.id}:${p.name}:${p.bitwidth}`).join(',') });
  for (const r of s.registers) put('register', r, { size: String(r.size), bitwidth: String(r.bitwidth) });
  for (const c of s.counters) put('counter', c, { size: String(c.size), unit: c.unit });
  for (const c of s.directCounters) put('direct counter', c, { table: String(c.tableId), unit: c.unit });
  for (const d of s.digests) put('digest', d, { members: d.members.map((m) => `${m.name}:${m.bitwidth}`).join(',') });
  for (const h of s.controllerHeaders) put('controller header', h, { fields: h.metadata.map((m) => `${m.id}:${m.name}:${m.bitwidth}`).join(',') });
  for (const m of s.meters) put('meter', m, { size: String(m.size) });
  for (const p of s.actionProfiles) put('action profile', p, { size: String(p.size) });
  return out;
}

/** Readable differences between two P4Infos, at most `max` (then "… and N more"). */
export function p4infoDifferences(expected: P4Schema, actual: P4Schema, max = 5): string[] {
  const diffs: string[] = [];
  if (expected.programName !== actual.programName) diffs.push(`program: expected '${expected.programName}', target '${actual.programName}'`);
  const a = fingerprint(expected);
  const b = fingerprint(actual);
  for (const [k, pa] of a) {
    const pb = b.get(k);
    if (!pb) {
      diffs.push(`${k}: missing on the target`);
      continue;
    }
    for (const prop of Object.keys(pa)) {
      if (pa[prop] !== pb[prop]) diffs.push(`${k}: ${prop} expected ${JSON.stringify(pa[prop])}, target ${JSON.stringify(pb[prop])}`);
    }
  }
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`${k}: on the target but not in the expected P4Info`);
  if (diffs.length <= max) return diffs;
  return [...diffs.slice(0, max), `… and ${diffs.length - max} more`];
}

/** Judges the target's pipeline (as GetForwardingPipelineConfig returned it) against ours. */
export function comparePipeline(expected: P4Schema, expectedCookie: bigint | undefined, target: PipelineConfig | undefined): PipelineIdentity {
  const targetCookie = target?.cookie;
  const info = target?.p4info;
  const empty = !info || ((info.tables?.length ?? 0) === 0 && (info.actions?.length ?? 0) === 0 && (info.registers?.length ?? 0) === 0);
  if (empty) return { kind: 'missing', differences: ['the target has no forwarding pipeline'], targetCookie, expectedCookie };
  let actual: P4Schema;
  try {
    actual = P4Schema.fromP4Info(info);
  } catch (e) {
    return { kind: 'different', differences: [`the target's P4Info cannot be read: ${e instanceof Error ? e.message : String(e)}`], targetCookie, expectedCookie };
  }
  const differences = p4infoDifferences(expected, actual);
  if (expectedCookie !== undefined && targetCookie !== expectedCookie) {
    differences.push(
      `cookie: expected 0x${expectedCookie.toString(16)} (of --p4info + --device-config), target ${targetCookie === undefined ? 'has none' : `0x${targetCookie.toString(16)}`} — the pipeline was built from other files or pushed by another tool`,
    );
  }
  return { kind: differences.length === 0 ? 'match' : 'different', differences, targetCookie, expectedCookie };
}

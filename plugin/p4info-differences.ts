/**
 * How two P4Infos differ, in an operator's words: what a message names when the switch runs
 * "'stateful_edge' 1.0.0, not this plugin's 'stateful_edge' 1.0.0" — two builds of one program
 * name and version that are not the same program (field walkthrough 21: a 64-bit clock variant).
 */
import type { P4Schema } from 'p4runtime-ts';

/** Sizes and widths of `a` (ours) against `b` (the switch's), by name; [] when none of those differ. */
export function p4infoDifferences(ours: P4Schema, theirs: P4Schema): string[] {
  const out: string[] = [];
  const byName = <T extends { readonly name: string }>(xs: readonly T[]): Map<string, T> => new Map(xs.map((x) => [x.name, x]));
  const compare = <T extends { readonly name: string }>(kind: string, a: readonly T[], b: readonly T[], differ: (x: T, y: T) => string | undefined): void => {
    const bm = byName(b);
    for (const x of a) {
      const y = bm.get(x.name);
      if (!y) out.push(`${kind} '${x.name}' is not in the switch's program`);
      else {
        const d = differ(x, y);
        if (d !== undefined) out.push(`${kind} '${x.name}': ${d}`);
      }
    }
    const am = byName(a);
    for (const y of b) if (!am.has(y.name)) out.push(`${kind} '${y.name}' is only in the switch's program`);
  };
  compare('register', ours.registers, theirs.registers, (x, y) => (x.size !== y.size || x.bitwidth !== y.bitwidth ? `${x.size} × bit<${x.bitwidth}> here, ${y.size} × bit<${y.bitwidth}> on the switch` : undefined));
  compare('table', ours.tables, theirs.tables, (x, y) => {
    if (x.size !== y.size) return `size ${x.size} here, ${y.size} on the switch`;
    const fields = (t: typeof x): string => t.matchFields.map((f) => `${f.name}:${f.bitwidth}`).join(', ');
    if (fields(x) !== fields(y)) return `match fields (${fields(x)}) here, (${fields(y)}) on the switch`;
    const actions = (t: typeof x): string => t.actions.map((a) => a.name).sort().join(', ');
    return actions(x) !== actions(y) ? `actions (${actions(x)}) here, (${actions(y)}) on the switch` : undefined;
  });
  compare('counter', ours.counters, theirs.counters, (x, y) => (x.size !== y.size ? `size ${x.size} here, ${y.size} on the switch` : undefined));
  compare('digest', ours.digests, theirs.digests, (x, y) => {
    const members = (d: typeof x): string => d.members.map((m) => `${m.name}:${m.bitwidth}`).join(', ');
    return members(x) !== members(y) ? `members (${members(x)}) here, (${members(y)}) on the switch` : undefined;
  });
  compare('action', ours.actions, theirs.actions, (x, y) => {
    const params = (a: typeof x): string => a.params.map((p) => `${p.name}:${p.bitwidth}`).join(', ');
    return params(x) !== params(y) ? `parameters (${params(x)}) here, (${params(y)}) on the switch` : undefined;
  });
  return out;
}

/**
 * The stateful_edge P4Info for plugin tests, as the file in p4/ holds it, plus variants: resized
 * (a smaller slot group, to show the contract reader needs no code change) and broken (one
 * annotation edited, to check the error names it).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema } from 'p4runtime-ts';

/** Path of p4/stateful_edge.p4info.txtpb. */
export const STATEFUL_EDGE_P4INFO_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'p4', 'stateful_edge.p4info.txtpb');

/** The P4Info text. */
export function statefulEdgeP4InfoText(): string {
  return readFileSync(STATEFUL_EDGE_P4INFO_PATH, 'utf8');
}

/** Replaces `from` by `to` in the P4Info text, failing when `from` is not there (a stale test). */
export function editP4Info(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`editP4Info: '${from}' is not in the P4Info text`);
  return text.split(from).join(to);
}

/** The P4Info text with the table aliased `alias` cut out, the rest as it was (a P4Info edited by hand, as field tests made one). */
export function withoutTable(text: string, alias: string): string {
  // A table's block ends at the first closing brace in column 0; its preamble holds no brace before the alias.
  const out = text.replace(new RegExp(`tables \\{\\n  preamble \\{\\n[^}]*?alias: "${alias}"[\\s\\S]*?\\n\\}\\n`), '');
  if (out === text) throw new Error(`withoutTable: no table aliased '${alias}' in the P4Info text`);
  return out;
}

/**
 * stateful_edge with a slot group of `region0 + region1` slots (two ways per bucket), the dirty
 * bitmap sized to match: the same program at another size.
 */
export function resizedStatefulEdge(region0: number, region1: number): P4Schema {
  const slots = region0 + region1;
  let t = statefulEdgeP4InfoText();
  t = editP4Info(t, 'size: 327680', `size: ${slots}`);
  t = editP4Info(t, '@migrate_hash(\\"crc32\\" , 0 , 262144 , \\"crc16\\" , 262144 , 65536)', `@migrate_hash(\\"crc32\\" , 0 , ${region0} , \\"crc16\\" , ${region0} , ${region1})`);
  t = editP4Info(t, 'size: 10240', `size: ${2 * Math.ceil(slots / 64)}`);
  return P4Schema.fromText(t, `stateful_edge resized to ${slots} slots`);
}

/** @migrate_hash of the committed P4Info, as the text holds it. */
const DEFAULT_HASH = '@migrate_hash(\\"crc32\\" , 0 , 262144 , \\"crc16\\" , 262144 , 65536)';

/**
 * stateful_edge with its conntrack hashes swapped and sized anew: region 0 hashed by `first`
 * over `region0` slots, region 1 by `second` over `region1` (the P4Info of a build with
 * -DCT_HASH0=… -DCT_REGION0_SIZE=…, see p4/include/defines.p4).
 */
export function rehashedStatefulEdgeText(first: string, region0: number, second: string, region1: number): string {
  const slots = region0 + region1;
  let t = statefulEdgeP4InfoText();
  t = editP4Info(t, 'size: 327680', `size: ${slots}`);
  t = editP4Info(t, DEFAULT_HASH, `@migrate_hash(\\"${first}\\" , 0 , ${region0} , \\"${second}\\" , ${region0} , ${region1})`);
  t = editP4Info(t, 'size: 10240', `size: ${2 * Math.ceil(slots / 64)}`);
  return t;
}

/**
 * stateful_edge whose `ct_key_port` register is 48 bits wide with `remote_port` widened from 16
 * to 24 bits (the delta digest's member widened with it): a wider-field variant of the schema.
 */
export function widerRemotePortText(): string {
  let t = statefulEdgeP4InfoText();
  t = editP4Info(t, '@migrate_layout(\\"vm_port:16 remote_port:16 protocol:8\\")', '@migrate_layout(\\"vm_port:16 remote_port:24 protocol:8\\")');
  // The register and the digest member named like it: both 40-bit bitstrings right after the name.
  t = t.replace(/(name: "StatefulEdgeIngress\.conntrack\.ct_key_port"[\s\S]*?bitwidth: )40/, '$148');
  t = t.replace(/(name: "ct_key_port"\s*type_spec \{\s*bitstring \{\s*bit \{\s*bitwidth: )40/, '$148');
  return t;
}

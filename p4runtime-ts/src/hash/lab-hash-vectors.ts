/**
 * Reads the lab's BMv2 hash vectors (`../shared/lab/2026-11-24-bmv2-hash-vectors.jsonl`, beside
 * the repository clone): hashes BMv2 computed over 5-tuples, an independent source of truth for
 * our implementations.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured tuple and BMv2's answers for it. */
export interface LabHashVector {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
  readonly crc32: number;
  readonly crc16: number;
  readonly crc32_mod_65536: number;
  readonly crc16_mod_1000: number;
  readonly csum16: number;
}

const KEYS = ['src', 'dst', 'sport', 'dport', 'proto', 'crc32', 'crc16', 'crc32_mod_65536', 'crc16_mod_1000', 'csum16'] as const;

/** Where the vectors live: `<repo>/../shared/lab/2026-11-24-bmv2-hash-vectors.jsonl`. */
export function labHashVectorsPath(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return resolve(repoRoot, '..', 'shared', 'lab', '2026-11-24-bmv2-hash-vectors.jsonl');
}

/** Parses the vectors file, failing with the path and line when it is missing or malformed. */
export function loadLabHashVectors(path = labHashVectorsPath()): LabHashVector[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(
      `lab hash vectors not readable at ${path}; expected the shared lab folder beside the clone ` +
        '(../shared/lab) — check out the shared material next to the repository',
      { cause },
    );
  }
  const out: LabHashVector[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const raw = JSON.parse(line) as Record<string, unknown>;
    for (const k of KEYS) {
      if (typeof raw[k] !== 'number') {
        throw new Error(`${path}:${i + 1}: field '${k}' is missing or not a number; expected the lab's vector format`);
      }
    }
    out.push(raw as unknown as LabHashVector);
  }
  return out;
}

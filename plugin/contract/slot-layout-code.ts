/**
 * A slot group's field codec compiled for its layout: a slot's words to fields by name, and back,
 * and a flow's key as a string.
 *
 * Why compiled: the generic loops (slot-codec.ts) store and load every field through a name held
 * in a variable, and with a couple of dozen names V8's property caches go megamorphic — each
 * access a lookup. Code written out for the one layout (`{ "vm_addr": (w0 >> 32n) & …, … }`) builds
 * every record with one shape from a literal and reads fields by constant names; on the bench's
 * 21-field layout decoding is about 3× and encoding about 2× faster (BENCHMARKS.md), which is
 * most of a pause's per-slot work at the controller.
 *
 * What is generated is made only of the layout's numbers (checked to be small integers here) and
 * its names (written as JSON string literals, so no name can be anything but a property name). A
 * layout that does not pass those checks, or a process that forbids code from strings
 * (`--disallow-code-generation-from-strings`), keeps the generic loops: same results, slower.
 */
import type { SlotGroupSpec } from './slot-group.js';

/** The compiled codec of one layout. */
export interface SlotLayoutCode {
  /** Every field by name, in layout order, as decodeSlotFields returns them. */
  readonly decode: (words: readonly bigint[]) => Record<string, bigint>;
  /** The words from checked fields (each within its width; absent is 0), as encodeCheckedSlotWords. */
  readonly encode: (fields: Readonly<Record<string, bigint>>) => bigint[];
  /** A flow's key as one string: the key fields' decimal values joined by `/`, in key order. */
  readonly keyString: (fields: Readonly<Record<string, bigint>>) => string;
}

const compiled = new WeakMap<SlotGroupSpec, SlotLayoutCode | null>();

/**
 * The group's compiled codec, made once per group; undefined when it cannot be compiled (see above).
 * @example
 * const code = slotLayoutCode(slotGroup(contract, 'conntrack'));
 * const fields = code ? code.decode(words) : decodeSlotFields(group, words); // decodeSlotFields does this itself
 */
export function slotLayoutCode(group: SlotGroupSpec): SlotLayoutCode | undefined {
  let c = compiled.get(group);
  if (c === undefined) {
    c = compile(group);
    compiled.set(group, c);
  }
  return c ?? undefined;
}

const smallInt = (n: unknown, max: number): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;

function compile(group: SlotGroupSpec): SlotLayoutCode | null {
  const names = new Set<string>();
  for (const [w, word] of group.words.entries()) {
    for (const f of word.fields) {
      // `__proto__` in a literal sets the prototype instead of a property; duplicates would collapse.
      if (typeof f.name !== 'string' || f.name === '__proto__' || names.has(f.name)) return null;
      if (f.word !== w || !smallInt(f.lsb, 4096) || !smallInt(f.bits, 4096) || f.bits === 0) return null;
      names.add(f.name);
    }
  }
  const keyNames = group.key.map((k) => k.name);
  // The key names a subset of the layout's fields (the contract checks it); anything else falls back.
  if (keyNames.length === 0 || keyNames.some((n) => !names.has(n)) || new Set(keyNames).size !== keyNames.length) return null;
  const lit = (s: string): string => JSON.stringify(s);
  const get = (obj: string, n: string): string => `(${obj}[${lit(n)}] ?? 0n)`;
  const loads = group.words.map((_, w) => `const w${w} = words[${w}] ?? 0n;`).join('\n');
  const props = group.words.flatMap((word, w) => word.fields.map((f) => `${lit(f.name)}: ${f.lsb === 0 ? `w${w}` : `(w${w} >> ${f.lsb}n)`} & ${(1n << BigInt(f.bits)) - 1n}n`));
  const wordsOut = group.words.map((word) => word.fields.map((f) => (f.lsb === 0 ? `(fields[${lit(f.name)}] ?? 0n)` : `((fields[${lit(f.name)}] ?? 0n) << ${f.lsb}n)`)).join(' | ') || '0n');
  try {
    return Object.freeze({
      decode: new Function('words', `"use strict";\n${loads}\nreturn { ${props.join(', ')} };`) as SlotLayoutCode['decode'],
      encode: new Function('fields', `"use strict";\nreturn [${wordsOut.join(', ')}];`) as SlotLayoutCode['encode'],
      keyString: new Function('f', `"use strict";\nreturn ${keyNames.map((n) => `String(${get('f', n)})`).join(" + '/' + ")};`) as SlotLayoutCode['keyString'],
    });
  } catch {
    // Code from strings forbidden in this process: the generic loops serve.
    return null;
  }
}

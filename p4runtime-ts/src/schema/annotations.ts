/**
 * P4 annotations as P4Info carries them: unstructured strings such as `@migrate_group("ct")` or
 * `@migrate_key("src_addr" , 1 , true)` (p4c re-spaces the argument tokens), bare `@hidden`, and
 * `structured_annotations` (P4Runtime spec, "Structured Annotations": expression or key-value
 * lists). Both become one `Annotation` shape; the migration contract lives in these.
 */
import { P4RuntimeError } from '../errors.js';
import { toBigInt } from '../proto/index.js';
import type { LongLike, p4 } from '../proto/index.js';

/** An annotation argument: a string literal, an integer, or a boolean. Bare identifiers read as strings. */
export type AnnotationValue = string | bigint | boolean;

/** One parsed annotation. */
export interface Annotation {
  readonly name: string;
  /** Positional arguments, in order. */
  readonly args: readonly AnnotationValue[];
  /** Key-value arguments (`@x[k=v]`, or `@x(k=v)`), by key. */
  readonly kv: Readonly<Record<string, AnnotationValue>>;
  /** The annotation as written in P4Info (for structured ones: a rendering in `@x[k=v]` form). */
  readonly raw: string;
}

/**
 * Parses one unstructured annotation string from P4Info.
 * @param owner names the entity in errors, e.g. `table 'ingress.acl'`.
 * @throws P4RuntimeError SCHEMA_INVALID naming the owner and the text.
 * @example parseAnnotation('@migrate_key("src_addr" , 1 , true)', 'table acl').args // ['src_addr', 1n, true]
 */
export function parseAnnotation(text: string, owner: string): Annotation {
  try {
    return parseOrThrow(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new P4RuntimeError('SCHEMA_INVALID', `${owner}: cannot parse annotation '${text}': ${reason}`, { cause: e });
  }
}

/** Converts one P4Info structured annotation (expression list or key-value list) to an Annotation. */
export function fromStructuredAnnotation(sa: p4.config.v1.StructuredAnnotation.$Properties, owner: string): Annotation {
  const name = sa.name ?? '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new P4RuntimeError('SCHEMA_INVALID', `${owner}: structured annotation has an invalid name '${name}'`);
  }
  const args: AnnotationValue[] = [];
  const kv: Record<string, AnnotationValue> = {};
  for (const e of sa.expressionList?.expressions ?? []) args.push(expressionValue(e, name, owner));
  for (const p of sa.kvPairList?.kvPairs ?? []) {
    const key = p.key ?? '';
    if (!key) throw new P4RuntimeError('SCHEMA_INVALID', `${owner}: structured annotation @${name} has a key-value pair without a key`);
    kv[key] = expressionValue(p.value ?? {}, name, owner);
  }
  const raw = sa.kvPairList
    ? `@${name}[${Object.entries(kv).map(([k, v]) => `${k}=${renderValue(v)}`).join(', ')}]`
    : `@${name}[${args.map(renderValue).join(', ')}]`;
  return Object.freeze({ name, args: Object.freeze(args), kv: Object.freeze(kv), raw });
}

/** Parses an entity's unstructured and structured annotations into one list (unstructured first). */
export function parseAnnotations(
  unstructured: readonly string[] | null | undefined,
  structured: readonly p4.config.v1.StructuredAnnotation.$Properties[] | null | undefined,
  owner: string,
): readonly Annotation[] {
  const out: Annotation[] = [];
  for (const a of unstructured ?? []) out.push(parseAnnotation(a, owner));
  for (const s of structured ?? []) out.push(fromStructuredAnnotation(s, owner));
  return Object.freeze(out);
}

/** The first annotation with this name (without the `@`), if any. */
export function findAnnotation(list: readonly Annotation[], name: string): Annotation | undefined {
  const n = name.startsWith('@') ? name.slice(1) : name;
  return list.find((a) => a.name === n);
}

/** Renders an annotation value the way P4 source would write it. */
export function renderValue(v: AnnotationValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function expressionValue(e: p4.config.v1.Expression.$Properties, name: string, owner: string): AnnotationValue {
  if (e.stringValue !== undefined && e.stringValue !== null) return e.stringValue;
  if (e.int64Value !== undefined && e.int64Value !== null) return toBigInt(e.int64Value as LongLike, true);
  if (e.boolValue !== undefined && e.boolValue !== null) return e.boolValue;
  throw new P4RuntimeError('SCHEMA_INVALID', `${owner}: structured annotation @${name} has an expression with no value`);
}

type Token =
  | { t: 'str'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'ident'; v: string }
  | { t: 'punct'; v: string };

function parseOrThrow(text: string): Annotation {
  const s = text.trim();
  const head = /^@([A-Za-z_][A-Za-z0-9_.]*)\s*/.exec(s);
  if (!head) throw new Error("expected '@name', '@name(args)' or '@name[k=v, ...]'");
  const name = head[1] ?? '';
  let rest = s.slice(head[0].length);
  if (rest === '') return Object.freeze({ name, args: Object.freeze([]), kv: Object.freeze({}), raw: text });
  const open = rest[0];
  const close = open === '(' ? ')' : open === '[' ? ']' : undefined;
  if (!close) throw new Error(`unexpected '${rest}' after @${name}`);
  if (!rest.endsWith(close)) throw new Error(`missing closing '${close}'`);
  rest = rest.slice(1, -1);
  const tokens = tokenize(rest);
  const args: AnnotationValue[] = [];
  const kv: Record<string, AnnotationValue> = {};
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i];
    const next = tokens[i + 1];
    if (tok?.t === 'ident' && next?.t === 'punct' && next.v === '=') {
      const val = tokens[i + 2];
      if (!val || val.t === 'punct') throw new Error(`missing value after '${tok.v}='`);
      kv[tok.v] = tokenValue(val);
      i += 3;
    } else if (tok && tok.t !== 'punct') {
      args.push(tokenValue(tok));
      i += 1;
    } else {
      throw new Error(`unexpected '${tok?.v ?? ''}'`);
    }
    const sep = tokens[i];
    if (sep === undefined) break;
    if (sep.t !== 'punct' || sep.v !== ',') throw new Error(`expected ',' between arguments, got '${String(sep.v)}'`);
    i += 1;
    if (i >= tokens.length) throw new Error('trailing comma');
  }
  if (args.length > 0 && Object.keys(kv).length > 0) throw new Error('mixes positional and key=value arguments');
  return Object.freeze({ name, args: Object.freeze(args), kv: Object.freeze(kv), raw: text });
}

function tokenValue(tok: Exclude<Token, { t: 'punct' }>): AnnotationValue {
  if (tok.t === 'ident') {
    if (tok.v === 'true') return true;
    if (tok.v === 'false') return false;
  }
  return tok.v;
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new Error('unterminated string literal');
        const d = s[i] ?? '';
        if (d === '"') break;
        if (d === '\\') {
          const e = s[i + 1];
          if (e === undefined) throw new Error('unterminated string literal');
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
        } else {
          v += d;
          i++;
        }
      }
      i++;
      out.push({ t: 'str', v });
    } else if (/[-0-9]/.test(c)) {
      // P4 integer literals: decimal, 0x/0o/0b, optionally width-prefixed (8w255, 16s-3).
      const m = /^(-?)(?:(\d+)[ws])?(-?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*)/.exec(s.slice(i));
      if (!m) throw new Error(`bad number at '${s.slice(i)}'`);
      const digits = (m[4] ?? '').replace(/_/g, '');
      const mag = BigInt(/^0[oO]/.test(digits) ? `0o${digits.slice(2)}` : digits);
      const neg = (m[1] === '-') !== (m[3] === '-');
      out.push({ t: 'int', v: neg ? -mag : mag });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(s.slice(i));
      const v = m?.[0] ?? c;
      out.push({ t: 'ident', v });
      i += v.length;
    } else if (c === ',' || c === '=') {
      out.push({ t: 'punct', v: c });
      i++;
    } else {
      throw new Error(`unexpected character '${c}'`);
    }
  }
  return out;
}

/**
 * A minimal reader of the protobuf text format, enough for the P4Info files p4c writes: nested
 * messages, repeated fields, strings, integers and enum names. Used by the P4Info contract test;
 * the product reads P4Info through p4runtime-ts.
 */

export type TextValue = string | number | bigint | TextMessage;

/** A message: field name -> every value it was given, in order. */
export interface TextMessage {
  readonly [field: string]: readonly TextValue[];
}

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s+|#[^\n]*|([A-Za-z_][\w.]*)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))|([{}:<>[\],;])/y;
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new Error(`text proto: unexpected character '${src[pos]}' at offset ${pos}`);
    if (m[1] !== undefined) out.push({ kind: 'ident', text: m[1], pos });
    else if (m[2] !== undefined || m[3] !== undefined) out.push({ kind: 'string', text: unescape(m[2] ?? m[3] ?? ''), pos });
    else if (m[4] !== undefined) out.push({ kind: 'number', text: m[4], pos });
    else if (m[5] !== undefined) out.push({ kind: 'punct', text: m[5], pos });
    pos = re.lastIndex;
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(["'\\nrt]|[0-7]{3})/g, (_m, c: string) => {
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    if (c === 't') return '\t';
    if (/^[0-7]{3}$/.test(c)) return String.fromCharCode(parseInt(c, 8));
    return c;
  });
}

/** Parses a text-format message. */
export function parseTextProto(src: string): TextMessage {
  const tokens = tokenize(src);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const scalar = (): TextValue => {
    const t = tokens[i++];
    if (!t) throw new Error('text proto: value expected at end of input');
    if (t.kind === 'string') {
      let s = t.text;
      while (peek()?.kind === 'string') s += tokens[i++]?.text ?? ''; // adjacent literals concatenate
      return s;
    }
    if (t.kind === 'number') {
      const n = Number(t.text);
      return Number.isSafeInteger(n) || !/^-?\d+$/.test(t.text) ? n : BigInt(t.text);
    }
    if (t.kind === 'ident') return t.text;
    throw new Error(`text proto: unexpected '${t.text}' at offset ${t.pos}`);
  };
  const message = (close: string | undefined): TextMessage => {
    const fields: Record<string, TextValue[]> = {};
    for (;;) {
      const t = peek();
      if (!t) {
        if (close) throw new Error(`text proto: missing '${close}' at end of input`);
        return fields;
      }
      if (t.kind === 'punct' && t.text === close) {
        i++;
        return fields;
      }
      if (t.kind !== 'ident') throw new Error(`text proto: field name expected at offset ${t.pos}, got '${t.text}'`);
      i++;
      let value: TextValue;
      if (peek()?.text === ':') i++;
      const open = peek();
      if (open?.kind === 'punct' && (open.text === '{' || open.text === '<')) {
        i++;
        value = message(open.text === '{' ? '}' : '>');
      } else {
        value = scalar();
      }
      (fields[t.text] ??= []).push(value);
      if (peek()?.text === ',' || peek()?.text === ';') i++;
    }
  };
  return message(undefined);
}

/** The messages of a repeated message field (empty when absent). */
export function messages(msg: TextMessage, field: string): TextMessage[] {
  return (msg[field] ?? []).map((v) => {
    if (typeof v !== 'object') throw new Error(`text proto: field '${field}' holds a scalar, expected a message`);
    return v;
  });
}

/** The single sub-message of a field; throws when absent. */
export function message(msg: TextMessage, field: string): TextMessage {
  const m = messages(msg, field)[0];
  if (!m) throw new Error(`text proto: field '${field}' is missing`);
  return m;
}

/** The scalar values of a repeated scalar field. */
export function scalars(msg: TextMessage, field: string): (string | number | bigint)[] {
  return (msg[field] ?? []).map((v) => {
    if (typeof v === 'object') throw new Error(`text proto: field '${field}' holds a message, expected a scalar`);
    return v;
  });
}

/** A single scalar field as a number (0 when absent, as proto3 omits defaults). */
export function num(msg: TextMessage, field: string): number {
  const v = scalars(msg, field)[0] ?? 0;
  if (typeof v === 'string') throw new Error(`text proto: field '${field}' is '${v}', expected a number`);
  return Number(v);
}

/** A single scalar field as a string ('' when absent). */
export function str(msg: TextMessage, field: string): string {
  const v = scalars(msg, field)[0] ?? '';
  return String(v);
}

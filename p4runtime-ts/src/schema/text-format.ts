/**
 * Protocol buffer text format (what p4c writes as `*.p4info.txtpb`), read and written through
 * protobufjs reflection over our own descriptor (p4runtime-ts/src/proto/gen/descriptor.json), so
 * every field name, enum name and type is checked against the P4Runtime protocol files.
 *
 * Grammar handled: `name: value`, `name { ... }` / `name: { ... }` / `name < ... >`, repeated
 * fields by repetition or `name: [a, b]`, maps as `name { key: .. value { .. } }`, strings in
 * single or double quotes with C escapes (incl. octal `\123` and hex `\x41`) and adjacent-string
 * concatenation, enums by name or number, `#` comments, optional `,` / `;` separators.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { P4RuntimeError } from '../errors.js';
import { p4 } from '../proto/index.js';
import { Lexer } from './text-format-lexer.js';
import type { Tok } from './text-format-lexer.js';

/** Options for parseTextProto. */
export interface TextProtoOptions {
  /** Names the input in errors, e.g. a file path; defaults to `<text>`. */
  readonly source?: string;
}

/** A plain object as `Type.fromObject()` takes it: camelCase keys, 64-bit as decimal strings, bytes as Uint8Array, enums by name. */
export type PlainMessage = { [field: string]: PlainValue };
/** One value of a PlainMessage. */
export type PlainValue = string | number | boolean | Uint8Array | PlainMessage | PlainValue[];

let root: protobuf.Root | undefined;

/** The reflection root of our P4Runtime descriptor, loaded once on first use. */
export function protoRoot(): protobuf.Root {
  if (!root) {
    // Read via fs rather than a JSON import: works the same under tsx, vitest and tsc.
    const json = JSON.parse(readFileSync(new URL('../proto/gen/descriptor.json', import.meta.url), 'utf8')) as protobuf.INamespace;
    root = protobuf.Root.fromJSON(json);
    root.resolveAll();
  }
  return root;
}

/**
 * Parses protobuf text format for the message type `typeName` (e.g. `p4.config.v1.P4Info`) into a
 * plain object that the static class's `fromObject()` accepts.
 * @throws P4RuntimeError SCHEMA_INVALID with `source:line:column`, the field and what was expected.
 */
export function parseTextProto(typeName: string, text: string, options: TextProtoOptions = {}): PlainMessage {
  const type = lookupType(typeName);
  const p = new Parser(text, options.source ?? '<text>');
  const out = p.parseMessageBody(type, undefined);
  return out;
}

/**
 * Parses a P4Info in text format (p4c's `--p4runtime-files x.p4info.txtpb`).
 * @throws P4RuntimeError SCHEMA_INVALID with line:column, the field and what was expected.
 * @example const p4info = parseP4InfoText(readFileSync('inband.p4info.txtpb', 'utf8'));
 */
export function parseP4InfoText(text: string, options: TextProtoOptions = {}): p4.config.v1.P4Info {
  const plain = parseTextProto('p4.config.v1.P4Info', text, options);
  try {
    return p4.config.v1.P4Info.fromObject(plain);
  } catch (e) {
    throw new P4RuntimeError('SCHEMA_INVALID', `${options.source ?? '<text>'}: P4Info text does not convert: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes any message of type `typeName` (a class instance or a plain/$Properties object) in protobuf text format. */
export function formatTextProto(typeName: string, message: object): string {
  const type = lookupType(typeName);
  const lines: string[] = [];
  writeMessage(type, toPlain(type, message), 0, lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Writes a P4Info in text format the way p4c lays it out (header comments, 2-space indent, field-number order). */
export function formatP4InfoText(p4info: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties): string {
  return `# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n\n${formatTextProto('p4.config.v1.P4Info', p4info)}`;
}

function lookupType(typeName: string): protobuf.Type {
  try {
    return protoRoot().lookupType(typeName);
  } catch (e) {
    throw new P4RuntimeError('SCHEMA_INVALID', `no message type '${typeName}' in the P4Runtime descriptor`, { cause: e });
  }
}

/** snake_case name as in the .proto file, from protobufjs' camelCase field name. */
function protoName(field: protobuf.FieldBase): string {
  return field.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.FieldBase>>();

function fieldByTextName(type: protobuf.Type, name: string): protobuf.FieldBase | undefined {
  let idx = fieldIndex.get(type);
  if (!idx) {
    idx = new Map();
    for (const f of type.fieldsArray) {
      idx.set(protoName(f), f);
      idx.set(f.name, f);
    }
    fieldIndex.set(type, idx);
  }
  return idx.get(name);
}

// ---------------------------------------------------------------- lexer

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);

class Parser {
  private readonly lx: Lexer;

  constructor(text: string, source: string) {
    this.lx = new Lexer(text, source);
  }

  /** Parses fields until `close` (or EOF when close is undefined). */
  parseMessageBody(type: protobuf.Type, close: string | undefined): PlainMessage {
    const out: PlainMessage = {};
    const seenOneof = new Map<string, string>();
    for (;;) {
      const t = this.lx.peek();
      if (t.kind === 'eof') {
        if (close !== undefined) this.lx.fail(t, `expected '${close}' to close a ${type.fullName.slice(1)} message, got end of input`);
        return out;
      }
      if (t.kind === 'punct' && t.text === close) {
        this.lx.next();
        return out;
      }
      if (t.kind === 'punct' && t.text === '[') {
        this.lx.fail(t, `extension and Any fields ('[...]') are not supported in ${type.fullName.slice(1)}`);
      }
      if (t.kind !== 'ident') this.lx.fail(t, `expected a field name of ${type.fullName.slice(1)}, got '${t.text || 'end of input'}'`);
      this.lx.next();
      const field = fieldByTextName(type, t.text);
      if (!field) {
        const names = type.fieldsArray.map(protoName);
        this.lx.fail(t, `${type.fullName.slice(1)} has no field '${t.text}' (fields: ${names.join(', ')})`);
      }
      const fname = protoName(field);
      if (field.partOf) {
        const other = seenOneof.get(field.partOf.name);
        if (other !== undefined && other !== fname) {
          this.lx.fail(t, `'${fname}' and '${other}' are both set but belong to the same oneof '${field.partOf.name}'`);
        }
        seenOneof.set(field.partOf.name, fname);
      }
      this.parseField(type, field, fname, out, t);
      const sep = this.lx.peek();
      if (sep.kind === 'punct' && (sep.text === ',' || sep.text === ';')) this.lx.next();
    }
  }

  private parseField(type: protobuf.Type, field: protobuf.FieldBase, fname: string, out: PlainMessage, at: Tok): void {
    const isMessage = field.map || field.resolvedType instanceof protobuf.Type;
    let colon = false;
    if (this.lx.peek().kind === 'punct' && this.lx.peek().text === ':') {
      this.lx.next();
      colon = true;
    }
    if (!colon && !isMessage) this.lx.fail(this.lx.peek(), `expected ':' after scalar field '${fname}'`);
    const values: PlainValue[] = [];
    const nt = this.lx.peek();
    if (colon && nt.kind === 'punct' && nt.text === '[') {
      if (!field.repeated && !field.map) this.lx.fail(nt, `'${fname}' is not repeated; a [list] is not allowed`);
      this.lx.next();
      if (this.lx.peek().text === ']' && this.lx.peek().kind === 'punct') this.lx.next();
      else {
        for (;;) {
          values.push(this.parseValue(field, fname));
          const s = this.lx.next();
          if (s.kind === 'punct' && s.text === ']') break;
          if (!(s.kind === 'punct' && s.text === ',')) this.lx.fail(s, `expected ',' or ']' in the list of '${fname}', got '${s.text}'`);
        }
      }
    } else values.push(this.parseValue(field, fname));

    if (field.map) {
      const mapField = field as unknown as protobuf.MapField;
      const obj = (out[field.name] ?? {}) as PlainMessage;
      for (const v of values) {
        const entry = v as PlainMessage;
        const key = entry.key;
        const keyText = key instanceof Uint8Array || key === undefined ? defaultKey(mapField.keyType) : String(key);
        obj[keyText] = entry.value ?? {};
      }
      out[field.name] = obj;
    } else if (field.repeated) {
      const arr = (out[field.name] ?? []) as PlainValue[];
      arr.push(...values);
      out[field.name] = arr;
    } else {
      if (field.name in out) this.lx.fail(at, `non-repeated field '${fname}' of ${type.fullName.slice(1)} is set twice`);
      out[field.name] = values[0] as PlainValue;
    }
  }

  private parseValue(field: protobuf.FieldBase, fname: string): PlainValue {
    const t = this.lx.peek();
    if (field.map) {
      const mapField = field as unknown as protobuf.MapField;
      return this.parseMapEntry(mapField, fname);
    }
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      const open = this.lx.next();
      if (open.kind !== 'punct' || (open.text !== '{' && open.text !== '<')) this.lx.fail(open, `expected '{' to start message field '${fname}' (${rt.fullName.slice(1)}), got '${open.text}'`);
      return this.parseMessageBody(rt, open.text === '{' ? '}' : '>');
    }
    if (rt instanceof protobuf.Enum) {
      this.lx.next();
      if (t.kind === 'ident') {
        if (!(t.text in rt.values)) this.lx.fail(t, `'${t.text}' is not a value of enum ${rt.name} for '${fname}' (expected one of ${Object.keys(rt.values).join(', ')})`);
        return t.text;
      }
      if (t.kind === 'number' && /^-?\d+$/.test(t.text)) return Number(t.text);
      this.lx.fail(t, `expected an enum ${rt.name} name for '${fname}', got '${t.text}'`);
    }
    return this.parseScalar(field.type, fname);
  }

  private parseMapEntry(field: protobuf.MapField, fname: string): PlainMessage {
    const open = this.lx.next();
    if (open.kind !== 'punct' || (open.text !== '{' && open.text !== '<')) this.lx.fail(open, `expected '{' to start a map entry of '${fname}', got '${open.text}'`);
    const close = open.text === '{' ? '}' : '>';
    const entry: PlainMessage = {};
    for (;;) {
      const t = this.lx.next();
      if (t.kind === 'punct' && t.text === close) break;
      if (t.kind !== 'ident' || (t.text !== 'key' && t.text !== 'value')) this.lx.fail(t, `expected 'key' or 'value' in a map entry of '${fname}', got '${t.text || 'end of input'}'`);
      if (t.text in entry) this.lx.fail(t, `'${t.text}' is set twice in a map entry of '${fname}'`);
      const isMsg = t.text === 'value' && field.resolvedType instanceof protobuf.Type;
      const c = this.lx.peek();
      if (c.kind === 'punct' && c.text === ':') this.lx.next();
      else if (!isMsg) this.lx.fail(c, `expected ':' after '${t.text}' in a map entry of '${fname}'`);
      if (t.text === 'key') entry.key = this.parseScalar(field.keyType, `${fname}.key`);
      else if (field.resolvedType instanceof protobuf.Type) {
        const o = this.lx.next();
        if (o.kind !== 'punct' || (o.text !== '{' && o.text !== '<')) this.lx.fail(o, `expected '{' to start the value of a '${fname}' entry, got '${o.text}'`);
        entry.value = this.parseMessageBody(field.resolvedType, o.text === '{' ? '}' : '>');
      } else if (field.resolvedType instanceof protobuf.Enum) {
        const v = this.lx.next();
        entry.value = v.text;
      } else entry.value = this.parseScalar(field.type, `${fname}.value`);
      const s = this.lx.peek();
      if (s.kind === 'punct' && (s.text === ',' || s.text === ';')) this.lx.next();
    }
    return entry;
  }

  private parseScalar(type: string, fname: string): PlainValue {
    const t = this.lx.next();
    const want = (what: string): never => this.lx.fail(t, `expected ${what} for '${fname}', got '${t.text || 'end of input'}'`);
    if (type === 'string' || type === 'bytes') {
      if (t.kind !== 'string' || !t.bytes) return want(`a quoted ${type}`);
      if (type === 'bytes') return t.bytes;
      try {
        return utf8Strict.decode(t.bytes);
      } catch {
        return this.lx.fail(t, `string field '${fname}' is not valid UTF-8`);
      }
    }
    if (type === 'bool') {
      if (t.kind === 'ident' && (t.text === 'true' || t.text === 't' || t.text === 'True')) return true;
      if (t.kind === 'ident' && (t.text === 'false' || t.text === 'f' || t.text === 'False')) return false;
      if (t.kind === 'number' && (t.text === '0' || t.text === '1')) return t.text === '1';
      return want('true or false');
    }
    if (type === 'float' || type === 'double') {
      if (t.kind === 'number' || (t.kind === 'ident' && /^(inf|infinity|nan)$/i.test(t.text))) {
        const s = t.text.replace(/[fF]$/, '').toLowerCase();
        if (s.includes('nan')) return Number.NaN;
        if (s.includes('inf')) return s.startsWith('-') ? -Infinity : Infinity;
        return /^-?0x/.test(s) ? Number(BigInt(s.replace('-', '')) * (s.startsWith('-') ? -1n : 1n)) : Number(s);
      }
      return want('a number');
    }
    const isInt = INT32.has(type) || UINT32.has(type) || INT64.has(type) || UINT64.has(type);
    if (!isInt) return this.lx.fail(t, `unsupported field type '${type}' for '${fname}'`);
    if (t.kind !== 'number' || !/^-?(0[xX][0-9a-fA-F]+|\d+)$/.test(t.text)) return want(`an integer (${type})`);
    const neg = t.text.startsWith('-');
    const body = neg ? t.text.slice(1) : t.text;
    // A leading 0 means octal in text format (as in C), except for a lone 0.
    const mag = /^0\d+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
    const v = neg ? -mag : mag;
    const [lo, hi] = INT32.has(type)
      ? [-(1n << 31n), (1n << 31n) - 1n]
      : UINT32.has(type)
        ? [0n, (1n << 32n) - 1n]
        : INT64.has(type)
          ? [-(1n << 63n), (1n << 63n) - 1n]
          : [0n, (1n << 64n) - 1n];
    if (v < lo || v > hi) return this.lx.fail(t, `${t.text} is out of range for ${type} field '${fname}' (${lo}..${hi})`);
    return INT64.has(type) || UINT64.has(type) ? v.toString() : Number(v);
  }
}

function defaultKey(keyType: string): string {
  return keyType === 'string' ? '' : keyType === 'bool' ? 'false' : '0';
}

// ---------------------------------------------------------------- writer

function toPlain(type: protobuf.Type, message: object): Record<string, unknown> {
  const msg = type.fromObject(message as Record<string, unknown>);
  return type.toObject(msg, { longs: String, enums: String, defaults: false, arrays: false, objects: false, oneofs: false });
}

function writeMessage(type: protobuf.Type, obj: Record<string, unknown>, depth: number, lines: string[]): void {
  const pad = '  '.repeat(depth);
  const fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
  for (const f of fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const name = protoName(f);
    if (f.map) {
      const mf = f as unknown as protobuf.MapField;
      const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [k, val] of entries) {
        lines.push(`${pad}${name} {`);
        lines.push(`${pad}  key: ${formatScalar(mf.keyType, k)}`);
        if (mf.resolvedType instanceof protobuf.Type) {
          lines.push(`${pad}  value {`);
          writeMessage(mf.resolvedType, val as Record<string, unknown>, depth + 2, lines);
          lines.push(`${pad}  }`);
        } else lines.push(`${pad}  value: ${mf.resolvedType instanceof protobuf.Enum ? String(val) : formatScalar(mf.type, val)}`);
        lines.push(`${pad}}`);
      }
      continue;
    }
    const items = f.repeated ? (v as unknown[]) : [v];
    for (const item of items) {
      const rt = f.resolvedType;
      if (rt instanceof protobuf.Type) {
        const sub: string[] = [];
        writeMessage(rt, item as Record<string, unknown>, depth + 1, sub);
        if (sub.length === 0) lines.push(`${pad}${name} {\n${pad}}`);
        else lines.push(`${pad}${name} {`, ...sub, `${pad}}`);
      } else {
        // proto3 leaves default scalars out of text, except a set oneof member (its presence matters).
        const isDefault = rt instanceof protobuf.Enum ? rt.values[String(item)] === 0 || item === 0 : isDefaultScalar(item);
        if (!f.repeated && !f.partOf && isDefault) continue;
        lines.push(`${pad}${name}: ${rt instanceof protobuf.Enum ? String(item) : formatScalar(f.type, item)}`);
      }
    }
  }
}

function isDefaultScalar(v: unknown): boolean {
  return v === 0 || v === '0' || v === '' || v === false || (v instanceof Uint8Array && v.length === 0) || (typeof v === 'string' && /^0+$/.test(v));
}

function formatScalar(type: string, v: unknown): string {
  if (type === 'string') return quote(utf8.encode(String(v)));
  if (type === 'bytes') return quote(v instanceof Uint8Array ? v : new Uint8Array(0));
  if (type === 'bool') return v === true || v === 'true' ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  }
  return String(v);
}

/** Quotes bytes C-style: printable ASCII as is, the rest as 3-digit octal (what protobuf's C++ printer emits). */
function quote(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b === 0x27) s += "\\'";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${s}"`;
}

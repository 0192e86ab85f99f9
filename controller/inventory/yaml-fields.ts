/**
 * Reading a YAML document field by field with errors that name the file, the line, the field's
 * path and what was expected — the one way configuration is validated in the controller.
 */
import { LineCounter, isNode, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { didYouMean } from '../../plugin/cli-flags.js';
import { ControllerError } from '../errors.js';

/** A parsed YAML file that can point at any of its fields. */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; a syntax error is BAD_CONFIG naming file, line and column. */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      throw new ControllerError('BAD_CONFIG', `${file}:${pos.line}:${pos.col}: not valid YAML (${err.message.split('\n')[0]})`);
    }
    return new YamlSource(file, doc, lines);
  }

  /** The plain JavaScript value of the whole document. */
  value(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 }) as unknown;
  }

  /** `file:line` of the node at `path` (or of the nearest ancestor that exists). */
  where(path: readonly (string | number)[]): string {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return `${this.file}:${this.lines.linePos(node.range[0]).line}`;
    }
    return this.file;
  }
}

/** A field being read: its value and where it is. */
export class Field {
  constructor(
    readonly src: YamlSource,
    readonly path: readonly (string | number)[],
    readonly value: unknown,
  ) {}

  /** `devices.edge-1.address`. */
  get name(): string {
    return this.path.length === 0 ? '(top level)' : this.path.join('.');
  }

  /** A BAD_CONFIG error naming file, line, field, what was found and what was expected. */
  fail(expected: string): ControllerError {
    const got = this.value === undefined ? 'nothing' : JSON.stringify(this.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return new ControllerError('BAD_CONFIG', `${this.src.where(this.path)}: ${this.name}: got ${got && got.length > 60 ? `${got.slice(0, 60)}…` : got}; expected ${expected}`);
  }

  /** The child field `key` (value undefined when absent). */
  at(key: string | number): Field {
    const v = typeof this.value === 'object' && this.value !== null ? (this.value as Record<string | number, unknown>)[key] : undefined;
    return new Field(this.src, [...this.path, key], v);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** The entries of a mapping; `allowed` lists the keys it may have (others are refused by name). */
  object(expected: string, allowed?: readonly string[]): [string, Field][] {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) throw this.fail(expected);
    const keys = Object.keys(this.value);
    if (allowed) {
      const extra = keys.find((k) => !allowed.includes(k));
      if (extra !== undefined) throw this.at(extra).fail(`no field '${extra}' here${didYouMean(extra, allowed)}; allowed: ${allowed.join(', ')}`);
    }
    return keys.map((k) => [k, this.at(k)]);
  }

  /** The items of a sequence. */
  list(expected: string): Field[] {
    if (!Array.isArray(this.value)) throw this.fail(expected);
    return this.value.map((_v, i) => this.at(i));
  }

  /** A non-empty string. */
  string(expected = 'a non-empty string'): string {
    if (typeof this.value !== 'string' || this.value.trim() === '') throw this.fail(expected);
    return this.value.trim();
  }

  /** One of `choices`. */
  oneOf<T extends string>(choices: readonly T[]): T {
    if (!choices.includes(this.value as T)) throw this.fail(`one of ${choices.join(', ')}`);
    return this.value as T;
  }

  /** true or false. */
  bool(): boolean {
    if (typeof this.value !== 'boolean') throw this.fail('true or false');
    return this.value;
  }

  /** An unsigned integer below 2^bits, written as a number or a decimal string. */
  uint(bits: number): bigint {
    const expected = `an integer 0 .. 2^${bits}-1 (a number, or a decimal string above 2^53)`;
    if (typeof this.value === 'number' && !Number.isSafeInteger(this.value)) throw this.fail(expected);
    if (typeof this.value !== 'number' && !(typeof this.value === 'string' && /^\d+$/.test(this.value))) throw this.fail(expected);
    const v = BigInt(this.value);
    if (v < 0n || v >= 1n << BigInt(bits)) throw this.fail(expected);
    return v;
  }
}

/**
 * The tokenizer of the protocol buffer text format (text-format.ts): identifiers, numbers,
 * strings with their C escapes (octal, hex, adjacent strings joined) decoded to bytes, punctuation,
 * `#` comments skipped; every token with its line and column for errors.
 */
import { P4RuntimeError } from '../errors.js';

/** What a token is. */
export type TokKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';
/** One token, where it starts in the source. */
export interface Tok {
  kind: TokKind;
  text: string;
  /** Decoded bytes of a string token. */
  bytes?: Uint8Array;
  line: number;
  col: number;
}

const utf8 = new TextEncoder();

/** Reads tokens of one text, one ahead (`peek`), naming the source in errors. */
export class Lexer {
  private i = 0;
  private line = 1;
  private col = 1;
  private peeked: Tok | undefined;

  constructor(
    private readonly s: string,
    readonly source: string,
  ) {}

  peek(): Tok {
    this.peeked ??= this.lex();
    return this.peeked;
  }

  next(): Tok {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  fail(at: { line: number; col: number }, msg: string): never {
    throw new P4RuntimeError('SCHEMA_INVALID', `${this.source}:${at.line}:${at.col}: ${msg}`);
  }

  private advance(n = 1): void {
    for (let k = 0; k < n; k++) {
      if (this.s[this.i] === '\n') {
        this.line++;
        this.col = 1;
      } else this.col++;
      this.i++;
    }
  }

  private lex(): Tok {
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) return { kind: 'eof', text: '', line: this.line, col: this.col };
      if (c === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.advance();
      } else if (/\s/.test(c)) this.advance();
      else break;
    }
    const line = this.line;
    const col = this.col;
    const rest = this.s.slice(this.i, this.i + 400);
    const c = rest[0] ?? '';
    if (c === '"' || c === "'") return this.lexString(line, col);
    const num = /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|inf(?:inity)?\b|nan\b)/i.exec(rest);
    if (num && (c === '-' || c === '.' || /\d/.test(c))) {
      this.advance(num[0].length);
      return { kind: 'number', text: num[0], line, col };
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (id) {
      this.advance(id[0].length);
      return { kind: 'ident', text: id[0], line, col };
    }
    if ('{}<>[]:,;/.'.includes(c)) {
      this.advance();
      return { kind: 'punct', text: c, line, col };
    }
    this.fail({ line, col }, `unexpected character '${c}'`);
  }

  private lexString(line: number, col: number): Tok {
    const out: number[] = [];
    let text = '';
    // Adjacent string literals concatenate, as in C.
    while (this.s[this.i] === '"' || this.s[this.i] === "'") {
      const q = this.s[this.i];
      const start = this.i;
      this.advance();
      for (;;) {
        const ch = this.s[this.i];
        if (ch === undefined || ch === '\n') this.fail({ line, col }, 'unterminated string (strings cannot span lines)');
        if (ch === q) {
          this.advance();
          break;
        }
        if (ch === '\\') this.lexEscape(out, line, col);
        else {
          const cp = this.s.codePointAt(this.i) ?? 0;
          const chs = String.fromCodePoint(cp);
          out.push(...utf8.encode(chs));
          this.advance(chs.length);
        }
      }
      text += this.s.slice(start, this.i);
      // Skip whitespace and comments between adjacent literals.
      let j = this.i;
      for (;;) {
        while (j < this.s.length && /\s/.test(this.s[j] ?? '')) j++;
        if (this.s[j] === '#') {
          while (j < this.s.length && this.s[j] !== '\n') j++;
        } else break;
      }
      if (this.s[j] === '"' || this.s[j] === "'") this.advance(j - this.i);
      else break;
    }
    return { kind: 'string', text, bytes: Uint8Array.from(out), line, col };
  }

  private lexEscape(out: number[], line: number, col: number): void {
    const e = this.s[this.i + 1];
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
    if (e === undefined) this.fail({ line, col }, 'unterminated string');
    const sv = simple[e];
    if (sv !== undefined) {
      out.push(sv);
      this.advance(2);
      return;
    }
    const tail = this.s.slice(this.i + 1, this.i + 11);
    const oct = /^[0-7]{1,3}/.exec(tail);
    if (oct) {
      const v = Number.parseInt(oct[0], 8);
      if (v > 255) this.fail({ line: this.line, col: this.col }, `octal escape \\${oct[0]} is above \\377`);
      out.push(v);
      this.advance(1 + oct[0].length);
      return;
    }
    const hex = /^[xX]([0-9a-fA-F]{1,2})/.exec(tail);
    if (hex) {
      out.push(Number.parseInt(hex[1] ?? '0', 16));
      this.advance(1 + hex[0].length);
      return;
    }
    const uni = /^(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(tail);
    if (uni) {
      const cp = Number.parseInt(uni[1] ?? uni[2] ?? '0', 16);
      if (cp > 0x10ffff) this.fail({ line: this.line, col: this.col }, `unicode escape \\${uni[0]} is above U+10FFFF`);
      out.push(...utf8.encode(String.fromCodePoint(cp)));
      this.advance(1 + uni[0].length);
      return;
    }
    this.fail({ line: this.line, col: this.col }, `unknown escape '\\${e}' (expected one of \\n \\t \\r \\\\ \\" \\' \\ooo \\xHH \\uXXXX)`);
  }
}

// ---------------------------------------------------------------- parser

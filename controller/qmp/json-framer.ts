/**
 * Splits the monitor's byte stream into JSON texts. QEMU ends each message with CRLF, but with
 * `pretty=on` one message spans many lines, so messages are found by tracking braces (outside
 * strings) rather than by splitting on newlines.
 */
import { QmpError } from './errors.js';

/** Accumulates chunks and yields each complete top-level JSON object's text. */
export class JsonFramer {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Index in `buf` up to which the characters have been scanned. */
  private scanned = 0;
  private start = -1;

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds a chunk; returns the complete messages it finished, or throws PROTOCOL on garbage. */
  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    for (; this.scanned < this.buf.length; this.scanned++) {
      const c = this.buf[this.scanned]!;
      if (this.depth === 0) {
        if (c === '{') {
          this.start = this.scanned;
          this.depth = 1;
        } else if (!/\s/.test(c)) {
          throw new QmpError('PROTOCOL', `the monitor sent ${JSON.stringify(this.snippet(this.scanned))} where a JSON object should start; is this a QMP socket (-qmp, not -monitor)?`);
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buf.slice(this.start, this.scanned + 1));
          this.start = -1;
        }
      }
    }
    // Keep only the unfinished message, so the buffer does not grow with the session.
    const keep = this.start >= 0 ? this.start : this.buf.length;
    this.buf = this.buf.slice(keep);
    this.scanned -= keep;
    if (this.start >= 0) this.start = 0;
    if (this.buf.length > this.maxMessageBytes) {
      throw new QmpError('PROTOCOL', `a QMP message exceeds ${this.maxMessageBytes} characters without ending; raise QmpClientOptions.maxMessageBytes if the monitor really sends that much`);
    }
    return out;
  }

  private snippet(at: number): string {
    return this.buf.slice(at, at + 40);
  }
}

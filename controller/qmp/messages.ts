/**
 * The QMP wire messages (QEMU's docs/interop/qmp-spec) and the one function that classifies a
 * parsed JSON value as greeting, success reply, error reply or event — anything else is refused.
 */
import { QmpError } from './errors.js';

/** A command id; we always send strings, QEMU echoes any JSON value back. */

/** The server's greeting: QEMU's version and the protocol capabilities it offers (e.g. `oob`). */
export interface QmpGreeting {
  readonly version: { readonly major: number; readonly minor: number; readonly micro: number; readonly package: string };
  readonly capabilities: readonly string[];
}

/** An asynchronous event, with QEMU's own timestamp and when we received it (our clock). */
export interface QmpEvent {
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** QEMU's host time of the event, in ms since the epoch (microsecond precision). */
  readonly timestampMs: number;
  /** Our clock's time when the event arrived. */
  readonly receivedAt: number;
  /** Position among all messages of the session, comparable to `executeOrdered`'s `seq`. */
  readonly seq: number;
}

/** One message from the server, classified. */
export type QmpMessage =
  | { readonly kind: 'greeting'; readonly greeting: QmpGreeting }
  | { readonly kind: 'return'; readonly id: unknown; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: unknown; readonly qmpClass: string; readonly desc: string }
  | { readonly kind: 'event'; readonly event: string; readonly data: Readonly<Record<string, unknown>>; readonly timestampMs: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(text: string, why: string): never {
  throw new QmpError('PROTOCOL', `unexpected QMP message (${why}): ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
}

/** Parses one framed JSON text into a QMP message, or throws PROTOCOL naming what is wrong. */
export function parseQmpMessage(text: string): QmpMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new QmpError('PROTOCOL', `malformed JSON from the monitor (${(e as Error).message}): ${text.slice(0, 200)}`, { cause: e });
  }
  if (!isObject(v)) fail(text, 'not a JSON object');
  if ('QMP' in v) {
    const q = v.QMP;
    if (!isObject(q) || !isObject(q.version) || !isObject(q.version.qemu)) fail(text, 'greeting without QMP.version.qemu');
    const { major, minor, micro } = q.version.qemu;
    if (typeof major !== 'number' || typeof minor !== 'number' || typeof micro !== 'number') fail(text, 'greeting version is not numeric');
    const caps = q.capabilities ?? [];
    if (!Array.isArray(caps) || !caps.every((c) => typeof c === 'string')) fail(text, 'greeting capabilities are not a list of names');
    const pkg = typeof q.version.package === 'string' ? q.version.package : '';
    return { kind: 'greeting', greeting: { version: { major, minor, micro, package: pkg }, capabilities: caps as string[] } };
  }
  if ('return' in v) return { kind: 'return', id: v.id, value: v.return };
  if ('error' in v) {
    const e = v.error;
    if (!isObject(e) || typeof e.class !== 'string' || typeof e.desc !== 'string') fail(text, 'error reply without class and desc');
    return { kind: 'error', id: v.id, qmpClass: e.class, desc: e.desc };
  }
  if ('event' in v) {
    if (typeof v.event !== 'string') fail(text, 'event name is not a string');
    const ts = v.timestamp;
    if (!isObject(ts) || typeof ts.seconds !== 'number' || typeof ts.microseconds !== 'number') fail(text, 'event without timestamp');
    const data = v.data ?? {};
    if (!isObject(data)) fail(text, 'event data is not an object');
    // QEMU uses {-1, -1} when the host clock failed; keep it as NaN rather than a wrong date.
    const timestampMs = ts.seconds < 0 ? NaN : ts.seconds * 1000 + ts.microseconds / 1000;
    return { kind: 'event', event: v.event, data, timestampMs };
  }
  fail(text, 'neither greeting, reply nor event');
}

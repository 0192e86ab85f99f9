/**
 * Counts the requests a controller sends one switch through its P4Switch session: Write and Read
 * calls (with the updates written), and PacketOuts (in-band state requests travel as PacketOuts).
 * Counted at the client because that is what a pause costs the switch whatever the target — the
 * sim, BMv2 or Tofino — and it includes every layer above the session (device API, register
 * access, control entries, counters). Digest acks and arbitration are not requests and not counted.
 */
import type { P4Switch, P4Update } from 'p4runtime-ts';

/** What one session sent. */
export interface SwitchRequestCounts {
  /** `write()` calls (each one WriteRequest unless it exceeds the session's batch size). */
  readonly writes: number;
  /** Updates in those writes. */
  readonly updates: number;
  /** Read calls (`read`, `readChunks`, `readAll`, `read$`, `readRaw`). */
  readonly reads: number;
  readonly packetOuts: number;
}

/** The methods counted (a P4Switch, or a test's stand-in). */
export type CountableSwitch = Pick<P4Switch, 'write' | 'read' | 'readChunks' | 'read$' | 'readRaw' | 'packetOut'>;

/** A running count over one session. */
export interface SwitchRequestCounter {
  counts(): SwitchRequestCounts;
  /** Stops counting: the session's own methods again. */
  restore(): void;
}

/** Requests of every kind together. */
export function totalRequests(c: SwitchRequestCounts): number {
  return c.writes + c.reads + c.packetOuts;
}

/** `b - a`, field by field (requests made between two readings). */
export function requestsBetween(a: SwitchRequestCounts, b: SwitchRequestCounts): SwitchRequestCounts {
  return { writes: b.writes - a.writes, updates: b.updates - a.updates, reads: b.reads - a.reads, packetOuts: b.packetOuts - a.packetOuts };
}

/** Sums readings (several switches). */
export function sumRequests(xs: readonly SwitchRequestCounts[]): SwitchRequestCounts {
  return xs.reduce((s, c) => ({ writes: s.writes + c.writes, updates: s.updates + c.updates, reads: s.reads + c.reads, packetOuts: s.packetOuts + c.packetOuts }), { writes: 0, updates: 0, reads: 0, packetOuts: 0 });
}

/** Starts counting what `sw` sends, by shadowing its methods on the instance (readAll goes through readChunks). */
export function countSwitchRequests(sw: CountableSwitch): SwitchRequestCounter {
  const c = { writes: 0, updates: 0, reads: 0, packetOuts: 0 };
  const KEYS = ['write', 'read', 'readChunks', 'read$', 'readRaw', 'packetOut'] as const;
  // What to put back: an instance's own method, or nothing (the class's method shows through again).
  const own = new Map(KEYS.filter((k) => Object.prototype.hasOwnProperty.call(sw, k)).map((k) => [k, Reflect.get(sw, k) as unknown]));
  const write = sw.write.bind(sw);
  const read = sw.read.bind(sw);
  const readChunks = sw.readChunks.bind(sw);
  const read$ = sw.read$.bind(sw);
  const readRaw = sw.readRaw.bind(sw);
  const packetOut = sw.packetOut.bind(sw);
  function* counted<T>(xs: Iterable<T>): Generator<T> {
    for (const x of xs) {
      c.updates++;
      yield x;
    }
  }
  sw.write = (updates, options) => {
    c.writes++;
    if (Array.isArray(updates)) c.updates += updates.length;
    else if (Symbol.iterator in updates) return write(counted(updates as Iterable<P4Update>), options);
    else c.updates++;
    return write(updates, options);
  };
  sw.read = (queries) => {
    c.reads++;
    return read(queries);
  };
  sw.readChunks = (queries) => {
    c.reads++;
    return readChunks(queries);
  };
  sw.read$ = (queries) => {
    c.reads++;
    return read$(queries);
  };
  sw.readRaw = (entities) => {
    c.reads++;
    return readRaw(entities);
  };
  sw.packetOut = (payload, metadata) => {
    c.packetOuts++;
    packetOut(payload, metadata);
  };
  return {
    counts: () => ({ ...c }),
    restore: () => {
      for (const k of KEYS) {
        if (own.has(k)) Reflect.set(sw, k, own.get(k));
        else Reflect.deleteProperty(sw, k);
      }
    },
  };
}

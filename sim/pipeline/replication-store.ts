/**
 * The packet replication engine (P4Runtime 1.4 §9.5 "PacketReplicationEngineEntry"): multicast
 * groups and clone sessions, each a set of (port, instance) replicas. Written, read back and —
 * for multicast groups — applied by the data plane when a program sends a packet to a group.
 */
import type { p4 } from 'p4runtime-ts/proto';
import { bitLength, bytesToBigInt, canonicalBytes } from '../p4rt/bytestring.js';
import { fail } from '../p4rt/status.js';

/** One copy of a packet: where it goes, and which copy it is. */
export interface Replica {
  readonly port: number;
  readonly instance: number;
}

/** A stored entry; `portForm` remembers how the client wrote ports so they read back the same way. */
interface StoredEntry {
  readonly replicas: readonly Replica[];
  readonly portForm: 'port' | 'egress_port';
  readonly classOfService: number;
  readonly packetLengthBytes: number;
}

type PreKind = 'multicastGroupEntry' | 'cloneSessionEntry';
type PreEntry = p4.v1.MulticastGroupEntry.$Properties & p4.v1.CloneSessionEntry.$Properties;
type UpdateType = 'INSERT' | 'MODIFY' | 'DELETE';

const WHAT: Readonly<Record<PreKind, { name: string; id: 'multicastGroupId' | 'sessionId' }>> = {
  multicastGroupEntry: { name: 'multicast group', id: 'multicastGroupId' },
  cloneSessionEntry: { name: 'clone session', id: 'sessionId' },
};

/** Which PRE entry a message carries, or a clear error. */
function kindOf(pre: p4.v1.PacketReplicationEngineEntry.$Properties): PreKind {
  if (pre.multicastGroupEntry != null) return 'multicastGroupEntry';
  if (pre.cloneSessionEntry != null) return 'cloneSessionEntry';
  throw fail.invalid('PacketReplicationEngineEntry has no entry set; set multicast_group_entry or clone_session_entry');
}

/** Port of a replica: the 1.4 `port` bytestring (a 32-bit port id) or the deprecated `egress_port`. */
function replicaPort(r: p4.v1.Replica.$Properties, what: string): { port: number; form: 'port' | 'egress_port' } {
  if (r.port != null && r.port.length > 0) {
    const v = bytesToBigInt(r.port);
    if (bitLength(v) > 32) throw fail.invalid(`${what}: replica port 0x${Buffer.from(r.port).toString('hex')} does not fit within 32 bits`);
    return { port: Number(v), form: 'port' };
  }
  return { port: r.egressPort ?? 0, form: 'egress_port' };
}

/** Multicast groups and clone sessions of one pipeline. */
export class ReplicationStore {
  private readonly tables: Record<PreKind, Map<number, StoredEntry>> = { multicastGroupEntry: new Map(), cloneSessionEntry: new Map() };

  /** The replicas of multicast group `id`, or undefined when no such group exists. */
  multicastGroup(id: number): readonly Replica[] | undefined {
    return this.tables.multicastGroupEntry.get(id)?.replicas;
  }

  /** The replicas of clone session `id`, or undefined. */
  cloneSession(id: number): readonly Replica[] | undefined {
    return this.tables.cloneSessionEntry.get(id)?.replicas;
  }

  /** Applies one update with the spec's codes; returns how to undo it. */
  write(type: UpdateType, pre: p4.v1.PacketReplicationEngineEntry.$Properties): () => void {
    const kind = kindOf(pre);
    const e = (pre[kind] ?? {}) as PreEntry;
    const { name, id: idField } = WHAT[kind];
    const id = e[idField] ?? 0;
    if (id === 0) throw fail.invalid(`${name} id 0 is reserved (it means "all" in a read); use an id from 1`);
    const store = this.tables[kind];
    const old = store.get(id);
    if (type === 'DELETE') {
      if (!old) throw fail.notFound(`${name} ${id} does not exist`);
      store.delete(id);
      return () => store.set(id, old);
    }
    if (type === 'INSERT' && old) throw fail.exists(`${name} ${id} already exists; MODIFY it instead`);
    if (type === 'MODIFY' && !old) throw fail.notFound(`${name} ${id} does not exist; INSERT it first`);
    const entry = this.validate(kind, id, e);
    store.set(id, entry);
    return old ? () => store.set(id, old) : () => store.delete(id);
  }

  private validate(kind: PreKind, id: number, e: PreEntry): StoredEntry {
    const what = `${WHAT[kind].name} ${id}`;
    const seen = new Set<string>();
    const replicas: Replica[] = [];
    let portForm: 'port' | 'egress_port' = 'port';
    for (const r of e.replicas ?? []) {
      const { port, form } = replicaPort(r, what);
      portForm = form;
      const instance = r.instance ?? 0;
      const k = `${port}/${instance}`;
      if (seen.has(k)) throw fail.invalid(`${what}: replica (port ${port}, instance ${instance}) is given twice; each (port, instance) pair must be unique`);
      seen.add(k);
      replicas.push(Object.freeze({ port, instance }));
    }
    const packetLengthBytes = kind === 'cloneSessionEntry' ? (e.packetLengthBytes ?? 0) : 0;
    if (packetLengthBytes < 0) throw fail.invalid(`${what}: packet_length_bytes ${packetLengthBytes} is negative; use 0 for whole packets`);
    return Object.freeze({ replicas: Object.freeze(replicas), portForm, classOfService: kind === 'cloneSessionEntry' ? (e.classOfService ?? 0) : 0, packetLengthBytes });
  }

  /** Reads entries: id 0 (or unset) reads every entry of that kind, in id order. */
  read(pre: p4.v1.PacketReplicationEngineEntry.$Properties): p4.v1.Entity.$Properties[] {
    const kind = kindOf(pre);
    const { name, id: idField } = WHAT[kind];
    const id = ((pre[kind] ?? {}) as PreEntry)[idField] ?? 0;
    const store = this.tables[kind];
    const ids = id === 0 ? [...store.keys()].sort((a, b) => a - b) : [id];
    if (id !== 0 && !store.has(id)) throw fail.notFound(`${name} ${id} does not exist`);
    return ids.map((i) => ({ packetReplicationEngineEntry: { [kind]: encode(kind, i, store.get(i) as StoredEntry) } }));
  }

  /** Copies every entry from `other` (RECONCILE_AND_COMMIT keeps the replication engine). */
  takeOver(other: ReplicationStore): void {
    for (const k of Object.keys(this.tables) as PreKind[]) for (const [id, e] of other.tables[k]) this.tables[k].set(id, e);
  }

  /** Number of entries of each kind (for tests and stats). */
  get sizes(): { multicastGroups: number; cloneSessions: number } {
    return { multicastGroups: this.tables.multicastGroupEntry.size, cloneSessions: this.tables.cloneSessionEntry.size };
  }
}

function encode(kind: PreKind, id: number, e: StoredEntry): PreEntry {
  const replicas = e.replicas.map((r) => (e.portForm === 'port' ? { port: canonicalBytes(BigInt(r.port)), instance: r.instance } : { egressPort: r.port, instance: r.instance }));
  if (kind === 'multicastGroupEntry') return { multicastGroupId: id, replicas };
  return { sessionId: id, replicas, classOfService: e.classOfService, packetLengthBytes: e.packetLengthBytes };
}

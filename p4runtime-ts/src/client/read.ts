/**
 * Reads as streams: one ReadRequest for one or more queries, its (possibly many, possibly large)
 * ReadResponses consumed message by message and decoded entity by entity, so a read of a million
 * cells never sits in memory as one array. Offered as an async iterable and as an Observable; both
 * cancel the call when the consumer stops early.
 */
import { Observable } from 'rxjs';
import { P4RuntimeError, grpcCodeName } from '../errors.js';
import type { UpdateError } from '../errors.js';
import { toLong } from '../proto/index.js';
import type { p4 } from '../proto/index.js';
import type { P4Schema } from '../schema/index.js';
import { decodeEntity, describeUpdate } from './entity-codec.js';
import { readDecoder } from './read-decoder.js';
import { encodeReadRequest } from './read-request-encoding.js';
import { perUpdateErrors, statusDetails } from './write.js';
import type { EntityRead } from './entity-codec.js';
import type { ReadQuery, ResultOf } from './handles.js';
import type { P4RuntimeTransport } from './transport.js';

/** What a read needs from the switch. */
export interface ReadContext {
  readonly transport: P4RuntimeTransport;
  readonly deviceId: bigint;
  readonly role: string;
  schema(): P4Schema | undefined;
}

function request(ctx: ReadContext, entities: readonly p4.v1.Entity.$Properties[]): p4.v1.ReadRequest.$Properties {
  const req: p4.v1.ReadRequest.$Properties = { deviceId: toLong(ctx.deviceId), entities: [...entities] };
  if (ctx.role !== '') req.role = ctx.role;
  return req;
}

/** Streams the raw entities of a Read (no schema needed). */
export async function* readRawEntities(ctx: ReadContext, entities: readonly p4.v1.Entity.$Properties[], signal?: AbortSignal): AsyncIterable<p4.v1.Entity> {
  try {
    for await (const res of ctx.transport.read(request(ctx, entities), signal)) {
      for (const e of res.entities) yield e as p4.v1.Entity;
    }
  } catch (e) {
    throw readFailure(ctx, entities, e) ?? P4RuntimeError.from(e, `read from device ${ctx.deviceId}`);
  }
}

/**
 * A Read the target failed per entity (one p4.v1.Error per requested entity in the status
 * details, as for Write): one error whose code is the entities' code when they agree (e.g.
 * NOT_FOUND for a missing key rather than the call's UNKNOWN), listing each failed entity by name.
 */
function readFailure(ctx: ReadContext, entities: readonly p4.v1.Entity.$Properties[], e: unknown): P4RuntimeError | undefined {
  const status = statusDetails(e);
  const errs = status ? perUpdateErrors(status) : undefined;
  if (!errs || errs.length !== entities.length) return undefined;
  const schema = ctx.schema();
  const failed: UpdateError[] = [];
  errs.forEach((err, i) => {
    if ((err.canonicalCode ?? 0) === 0) return;
    const entity = describeUpdate(schema, { type: 0, entity: entities[i] ?? {} }).replace(/^UNSPECIFIED /, 'READ ');
    failed.push({ index: i, code: grpcCodeName(err.canonicalCode), message: err.message ?? '', entity });
  });
  if (failed.length === 0) return undefined;
  const codes = new Set(failed.map((f) => f.code));
  const first = failed[0];
  const code = codes.size === 1 && first && first.code !== 'OK' ? first.code : 'UNKNOWN';
  const listed = failed.slice(0, 5).map((f) => `#${f.index} ${f.code} ${f.entity}: ${f.message}`).join('; ');
  return new P4RuntimeError(code, `read from device ${ctx.deviceId}: ${failed.length} of ${entities.length} entities failed: ${listed}`, {
    cause: e,
    grpcCode: (e as { code?: number } | undefined)?.code,
    updates: failed,
  });
}

/** Streams the decoded results of one or more queries. */
export async function* readEntities<Q extends ReadQuery<EntityRead>>(ctx: ReadContext, queries: Q | readonly Q[], signal?: AbortSignal): AsyncIterable<ResultOf<Q>> {
  for await (const chunk of readEntityChunks(ctx, queries, signal)) yield* chunk;
}

/**
 * A Read built and encoded once, for the switch that prepared it, and sent as often as needed:
 * a read that must leave at once when its moment comes (a migration's freeze) does no encoding
 * then. Made by `P4Switch.prepareRead`; read with `readChunks` like the queries themselves.
 */
export interface PreparedRead<Q extends ReadQuery<EntityRead>> {
  readonly kind: 'prepared-read';
  readonly queries: readonly Q[];
  readonly entities: readonly p4.v1.Entity.$Properties[];
  /** The encoded ReadRequest (device id and role of the switch that prepared it). */
  readonly bytes: Uint8Array;
}

/**
 * The reads prepareRead made, known by identity. Telling one from a list of queries by a property
 * (`'kind' in queries`) made V8 throw away readEntityChunks' optimized code the first time a
 * prepared read came after many lists (a new object shape there): inside a migration's pause,
 * where the freeze's Read is the prepared one.
 */
const PREPARED = new WeakSet<object>();
const NOT_ENCODED = new Uint8Array(0);

/**
 * The one shape every read goes by, prepared or not: readEntityChunks then reads the same fields
 * of the same kind of object every time (a field first read for a prepared read would again cost
 * its optimized code). `encode` false leaves `bytes` empty, for transports that encode themselves.
 */
function planRead<Q extends ReadQuery<EntityRead>>(ctx: ReadContext, queries: Q | readonly Q[], encode: boolean): PreparedRead<Q> {
  const list: readonly Q[] = Array.isArray(queries) ? (queries as readonly Q[]) : [queries as Q];
  const entities = list.flatMap((q) => q.entities);
  return Object.freeze({ kind: 'prepared-read', queries: list, entities, bytes: encode ? encodeReadRequest(ctx.deviceId, ctx.role, entities) : NOT_ENCODED });
}

/** Builds and encodes a Read of `queries` once (PreparedRead). */
export function prepareRead<Q extends ReadQuery<EntityRead>>(ctx: ReadContext, queries: Q | readonly Q[]): PreparedRead<Q> {
  const prepared = planRead(ctx, queries, true);
  PREPARED.add(prepared);
  return prepared;
}

/** `queries` as a PreparedRead when it is one: made by prepareRead (by identity), or built by hand with the same fields. */
function preparedOf<Q extends ReadQuery<EntityRead>>(queries: Q | readonly Q[] | PreparedRead<Q>): PreparedRead<Q> | undefined {
  if (Array.isArray(queries)) return undefined;
  if (PREPARED.has(queries)) return queries as PreparedRead<Q>;
  return (queries as { readonly kind?: unknown }).kind === 'prepared-read' ? (queries as PreparedRead<Q>) : undefined;
}

/**
 * The same results one ReadResponse at a time, each as an array: one await per message instead of
 * one per entity, for reads of many small entities (a slot group's register cells).
 */
export async function* readEntityChunks<Q extends ReadQuery<EntityRead>>(ctx: ReadContext, queries: Q | readonly Q[] | PreparedRead<Q>, signal?: AbortSignal): AsyncIterable<Array<ResultOf<Q>>> {
  const schema = ctx.schema();
  if (!schema) {
    throw new P4RuntimeError('FAILED_PRECONDITION', 'no P4Info bound to this switch: call ensurePipeline(), bindSchema() or fetchSchema() before reading by name');
  }
  const plan = preparedOf(queries) ?? planRead(ctx, queries as Q | readonly Q[], ctx.transport.readEncoded !== undefined);
  const entities = plan.entities;
  if (!ctx.transport.readEncoded) {
    for await (const e of readRawEntities(ctx, entities, signal)) yield [decodeEntity(schema, e) as ResultOf<Q>];
    return;
  }
  // Straight from the bytes: decoding errors are the caller's to see, the call's own go through readFailure.
  const decoder = readDecoder(schema);
  // Encoded by planRead for this transport (or by prepareRead).
  const stream = ctx.transport.readEncoded(plan.bytes, signal)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await stream.next();
      } catch (e) {
        throw readFailure(ctx, entities, e) ?? P4RuntimeError.from(e, `read from device ${ctx.deviceId}`);
      }
      if (next.done) return;
      yield [...decoder.response(next.value)] as Array<ResultOf<Q>>;
    }
  } finally {
    // A consumer that stops early (or a decoding error) ends the call on the server too.
    await stream.return?.();
  }
}

/** The same read as an Observable; unsubscribing cancels the call. */
export function readObservable<Q extends ReadQuery<EntityRead>>(ctx: ReadContext, queries: Q | readonly Q[]): Observable<ResultOf<Q>> {
  return new Observable<ResultOf<Q>>((subscriber) => {
    const abort = new AbortController();
    void (async () => {
      try {
        for await (const item of readEntities(ctx, queries, abort.signal)) {
          if (subscriber.closed) return;
          subscriber.next(item);
        }
        subscriber.complete();
      } catch (e) {
        if (!abort.signal.aborted) subscriber.error(P4RuntimeError.from(e));
      }
    })();
    return () => abort.abort();
  });
}

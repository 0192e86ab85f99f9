/**
 * Reads as streams: one ReadRequest for one or more queries, its (possibly many, possibly large)
 * ReadResponses consumed message by message and decoded entity by entity, so a read of a million
 * cells never sits in memory as one array. Offered as an async iterable and as an Observable; both
 * cancel the call when the consumer stops early.
 */
import { Observable } from 'rxjs';
import { P4RuntimeError } from '../errors.js';
import { toLong } from '../proto/index.js';
import type { p4 } from '../proto/index.js';
import type { P4Schema } from '../schema/index.js';
import { decodeEntity } from './entity-codec.js';
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
    throw P4RuntimeError.from(e, `read from device ${ctx.deviceId}`);
  }
}

/** Streams the decoded results of one or more queries. */
export async function* readEntities<Q extends ReadQuery<EntityRead>>(ctx: ReadContext, queries: Q | readonly Q[], signal?: AbortSignal): AsyncIterable<ResultOf<Q>> {
  const schema = ctx.schema();
  if (!schema) {
    throw new P4RuntimeError('FAILED_PRECONDITION', 'no P4Info bound to this switch: call ensurePipeline(), bindSchema() or fetchSchema() before reading by name');
  }
  const list: readonly Q[] = Array.isArray(queries) ? (queries as readonly Q[]) : [queries as Q];
  const entities = list.flatMap((q) => q.entities);
  for await (const e of readRawEntities(ctx, entities, signal)) yield decodeEntity(schema, e) as ResultOf<Q>;
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

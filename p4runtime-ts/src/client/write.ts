/**
 * Sending updates: splits a caller's list into WriteRequests of at most `batchSize` updates, sends
 * them in order (optionally a few in flight), and turns the per-update errors a target puts in the
 * `grpc-status-details-bin` trailer (a google.rpc.Status whose details are one p4.v1.Error per
 * update, OK ones included — spec §12.3, and what BMv2 does) into ONE P4RuntimeError('WRITE_FAILED')
 * indexed by the caller's positions and described by name.
 */
import { P4RuntimeError, grpcCodeName } from '../errors.js';
import type { UpdateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { google, p4, toLong, toUint128 } from '../proto/index.js';
import type { P4Schema } from '../schema/index.js';
import { describeUpdate } from './entity-codec.js';
import { EncodedUpdate, concatWriteRequest } from './encoded-update.js';
import type { P4Update } from './handles.js';
import type { P4RuntimeTransport, TransportStatus } from './transport.js';

/** Atomicity of a write (P4Runtime WriteRequest.Atomicity). */
export type Atomicity = 'CONTINUE_ON_ERROR' | 'ROLLBACK_ON_ERROR' | 'DATAPLANE_ATOMIC';

/** Options of one `write` call. */
export interface WriteOptions {
  /** CONTINUE_ON_ERROR by default. Atomic writes are never split: the whole list is one request. */
  readonly atomicity?: Atomicity;
  /** Overrides the switch's `writeBatchSize` for this call. */
  readonly batchSize?: number;
  /** Overrides the switch's `writeConcurrency` for this call. */
  readonly concurrency?: number;
}

/** What a write needs from the switch. */
export interface WriteContext {
  readonly transport: P4RuntimeTransport;
  readonly deviceId: bigint;
  electionId(): bigint;
  readonly role: string;
  schema(): P4Schema | undefined;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly logger: Logger;
}

/** How many failed updates the error message spells out before "… and N more". */
const LISTED_FAILURES = 5;
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/**
 * An update as encoded bytes. One function for the module, not a closure per write: a closure made
 * per call and used on hundreds of updates earns an optimizing compile at every write.
 */
const asEncoded = (u: P4Update): EncodedUpdate => (u instanceof EncodedUpdate ? u : EncodedUpdate.of(u));

/** The google.rpc.Status a failed call carried in its trailer, if any. */
export function statusDetails(err: unknown): google.rpc.Status | undefined {
  const md = (err as Partial<TransportStatus> | null)?.metadata;
  if (!md || typeof md.get !== 'function') return undefined;
  const raw = md.get(STATUS_DETAILS_KEY)[0];
  if (raw === undefined) return undefined;
  try {
    return google.rpc.Status.decode(typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw);
  } catch {
    return undefined;
  }
}

/** The p4.v1.Error of each detail of a Status, or undefined when any detail is something else. */
export function perUpdateErrors(status: google.rpc.Status): p4.v1.Error[] | undefined {
  const out: p4.v1.Error[] = [];
  for (const any of status.details) {
    if (!(any.type_url ?? '').endsWith('/p4.v1.Error')) return undefined;
    out.push(p4.v1.Error.decode(any.value ?? new Uint8Array()));
  }
  return out;
}

/** Builds the one error of a write whose batches reported per-update failures. */
export function writeFailedError(failures: readonly UpdateError[], total: number, cause?: unknown): P4RuntimeError {
  const listed = failures.slice(0, LISTED_FAILURES).map((f) => `#${f.index} ${f.code} ${f.entity}: ${f.message}`);
  const more = failures.length > LISTED_FAILURES ? `; … and ${failures.length - LISTED_FAILURES} more` : '';
  return new P4RuntimeError('WRITE_FAILED', `${failures.length} of ${total} updates failed: ${listed.join('; ')}${more}`, {
    updates: failures,
    cause,
    grpcCode: (cause as { code?: number } | undefined)?.code,
  });
}

function atomicityValue(a: Atomicity | undefined): p4.v1.WriteRequest.Atomicity {
  const v = p4.v1.WriteRequest.Atomicity[a ?? 'CONTINUE_ON_ERROR'];
  if (v === undefined) throw new P4RuntimeError('BAD_OPTIONS', `write atomicity '${String(a)}' is not one of CONTINUE_ON_ERROR, ROLLBACK_ON_ERROR, DATAPLANE_ATOMIC`);
  return v;
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new P4RuntimeError('BAD_OPTIONS', `write ${name} must be an integer >= 1, got ${v}`);
  return v;
}

/** The device and election ids as a WriteRequest carries them. */
interface RequestIds {
  readonly deviceId: ReturnType<typeof toLong>;
  readonly electionId: p4.v1.Uint128.$Properties;
}

/** The switch's device and election ids, as of now. */
function requestIds(ctx: WriteContext): RequestIds {
  return { deviceId: toLong(ctx.deviceId), electionId: toUint128(ctx.electionId()) };
}

/** The request's own fields (device, election id, role, atomicity) around `updates`; the role only when set. */
function writeRequest(ctx: WriteContext, ids: RequestIds, atomicity: p4.v1.WriteRequest.Atomicity, updates: p4.v1.Update.$Properties[]): p4.v1.WriteRequest.$Properties {
  const req: p4.v1.WriteRequest.$Properties = { deviceId: ids.deviceId, electionId: ids.electionId, updates, atomicity };
  if (ctx.role !== '') req.role = ctx.role;
  return req;
}

/** A WriteRequest's fields other than its updates, encoded. */
function encodeHead(ctx: WriteContext, ids: RequestIds, atomicity: p4.v1.WriteRequest.Atomicity): Uint8Array {
  return p4.v1.WriteRequest.encode(writeRequest(ctx, ids, atomicity, [])).finish();
}

/**
 * The WriteRequest that writeUpdates sends for `updates` as one batch, encoded and not sent. The
 * same functions encode it as a write does, so calling this ahead of a write whose timing matters
 * has V8 compile them before it.
 */
export function encodeWriteRequest(ctx: WriteContext, updates: readonly P4Update[], options: Pick<WriteOptions, 'atomicity'> = {}): Uint8Array {
  return concatWriteRequest(encodeHead(ctx, requestIds(ctx), atomicityValue(options.atomicity)), updates.map(asEncoded));
}

/**
 * Writes `updates` in batches; resolves when every update succeeded. On per-update failures every
 * batch is still sent (CONTINUE_ON_ERROR semantics) and one WRITE_FAILED error lists them all; a
 * failure of a whole batch (not primary, no pipeline, ...) stops the write at that batch.
 *
 * `updates` may be any iterable: an array is split as it is; any other iterable (a generator) is
 * drawn from one batch at a time while the previous batch is on the wire, so building updates
 * overlaps the target's work. An error thrown by the iterable ends the write there, after the
 * batches drawn before it were sent.
 */
export async function writeUpdates(ctx: WriteContext, updates: readonly P4Update[] | Iterable<P4Update>, options: WriteOptions = {}): Promise<void> {
  const atomicity = atomicityValue(options.atomicity);
  const atomic = atomicity !== p4.v1.WriteRequest.Atomicity.CONTINUE_ON_ERROR;
  // Splitting an atomic write would quietly break its promise; send it whole.
  const list: readonly P4Update[] | undefined = Array.isArray(updates) ? (updates as readonly P4Update[]) : atomic ? [...updates] : undefined;
  if (list?.length === 0) return;
  const size = list && atomic ? list.length : positive('batchSize', options.batchSize ?? ctx.batchSize);
  const concurrency = positive('concurrency', options.concurrency ?? ctx.concurrency);
  // Read once for every batch of the write.
  const ids = requestIds(ctx);
  // Known up front for arrays; for other iterables, counted as they are drawn.
  const batches = list ? Math.ceil(list.length / size) : undefined;
  const source = list ? undefined : updates[Symbol.iterator]();
  let drawn = list ? list.length : 0;
  const failures: UpdateError[] = [];
  let fatal: P4RuntimeError | undefined;
  let lastCause: unknown;
  let next = 0;

  /** The updates of batch `b`, or undefined when there are no more. */
  const sliceOf = (b: number): readonly P4Update[] | undefined => {
    if (list) return b >= (batches ?? 0) ? undefined : list.length <= size ? list : list.slice(b * size, b * size + size);
    const out: P4Update[] = [];
    for (let r = source?.next(); r && !r.done; r = out.length < size ? source?.next() : undefined) out.push(r.value);
    drawn += out.length;
    return out.length > 0 ? out : undefined;
  };
  const requestOf = (slice: readonly P4Update[]): p4.v1.WriteRequest.$Properties => {
    // protobufjs encodes own properties only: spell out an EncodedUpdate's lazily decoded entity.
    return writeRequest(ctx, ids, atomicity, slice.map((u) => (u instanceof EncodedUpdate ? { type: u.type, entity: u.entity } : u)));
  };
  const writeEncoded = ctx.transport.writeEncoded?.bind(ctx.transport);
  // A batch ready to send: encoded ahead when the transport takes encoded requests.
  type Prepared = { readonly b: number; readonly slice: readonly P4Update[]; readonly send: () => Promise<void> };
  // The request's fields other than its updates, encoded once for every batch.
  let head: Uint8Array | undefined;
  const prepare = (): Prepared | undefined => {
    let slice: readonly P4Update[] | undefined;
    try {
      slice = sliceOf(next);
    } catch (e) {
      // The iterable threw while building an update: what was drawn before it is written; stop here.
      fatal ??= e instanceof P4RuntimeError ? e : P4RuntimeError.from(e, `building update #${drawn} of a write`);
      return undefined;
    }
    if (!slice) return undefined;
    const b = next++;
    if (writeEncoded) {
      // Updates not encoded yet are encoded one by one, so a mixed batch (a few counter and
      // table updates among hundreds of encoded register cells) never decodes the encoded ones.
      head ??= encodeHead(ctx, ids, atomicity);
      const bytes = concatWriteRequest(head, slice.map(asEncoded));
      return { b, slice, send: () => writeEncoded(bytes) };
    }
    const req = requestOf(slice);
    return { b, slice, send: () => ctx.transport.write(req) };
  };

  // Starts the RPC of a batch; the returned promise settles with the error (or undefined), never rejects.
  const start = (batch: Prepared): Promise<unknown> => batch.send().then(() => undefined, (e: unknown) => e ?? new Error('write failed'));

  const settle = (batch: Prepared, e: unknown): void => {
    if (e === undefined) return;
    const { b, slice } = batch;
    const first = b * size;
    const perUpdate = decodeBatchFailure(ctx.schema(), e, slice, first);
    if (perUpdate) {
      failures.push(...perUpdate);
      lastCause = e;
      return;
    }
    const range = batches !== 1 ? ` (batch ${b + 1}${batches ? ` of ${batches}` : ''}, updates #${first}..#${first + slice.length - 1}; later batches not sent)` : '';
    const base = P4RuntimeError.from(e, `write to device ${ctx.deviceId}${range}`);
    fatal ??= failures.length > 0 ? new P4RuntimeError(base.code, base.message, { cause: e, grpcCode: base.grpcCode, updates: [...failures] }) : base;
  };

  const worker = async (): Promise<void> => {
    let current = fatal === undefined ? prepare() : undefined;
    while (current !== undefined && fatal === undefined) {
      const outcome = start(current);
      // Let this request reach the socket, then build and encode the next batch while the target
      // works; it is sent only after this one has answered, so order is kept.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const upcoming = fatal === undefined ? prepare() : undefined;
      settle(current, await outcome);
      current = upcoming;
    }
  };
  const workers = batches === undefined ? concurrency : Math.min(concurrency, batches);
  await Promise.all(Array.from({ length: workers }, worker));
  if (fatal) throw fatal;
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    // The caller gets the error with every failure; callers that expect some (an INSERT that may
    // exist already) would otherwise fill a log with warnings that say nothing of which.
    const first = failures[0];
    ctx.logger.debug('write had failed updates', { failed: failures.length, total: drawn, ...(first ? { first: `${first.code}: ${first.entity}: ${first.message}` } : {}) });
    throw writeFailedError(failures, drawn, lastCause);
  }
}

/** Per-update failures of one batch, or undefined when the error is not a per-update report. */
function decodeBatchFailure(schema: P4Schema | undefined, e: unknown, slice: readonly P4Update[], offset: number): UpdateError[] | undefined {
  const status = statusDetails(e);
  if (!status) return undefined;
  const errs = perUpdateErrors(status);
  if (!errs || errs.length !== slice.length) return undefined;
  const out: UpdateError[] = [];
  errs.forEach((err, i) => {
    if ((err.canonicalCode ?? 0) === 0) return;
    const u = slice[i] as P4Update;
    const failure: { -readonly [K in keyof UpdateError]: UpdateError[K] } = {
      index: offset + i,
      code: grpcCodeName(err.canonicalCode),
      message: err.message ?? '',
      entity: describeUpdate(schema, u),
    };
    if (err.space) failure.space = err.space;
    if (err.code) failure.targetCode = err.code;
    out.push(failure);
  });
  // A non-OK status whose details are all OK is not a per-update report we can trust.
  return out.length > 0 ? out : undefined;
}

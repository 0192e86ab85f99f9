/**
 * `P4Switch`: one controller's session with one P4Runtime device — arbitration, pipeline, writes
 * and reads by name, and the stream's messages as Observables — behind one object.
 *
 * @example
 * const sw = await P4Switch.connect({ address: '10.1.0.7:9559', deviceId: 1, role: 'carryover',
 *   credentials: { kind: 'mtls', ca: 'ca.pem', cert: 'me.pem', key: 'me.key' } });
 * await sw.ensurePipeline({ p4info, deviceConfig });          // no-op when the cookie matches
 * await sw.write([
 *   sw.table('dyn_acl').insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', idleTimeout: '30s' }),
 *   sw.counter('vm_bytes').modify(7, { bytes: 1_234n, packets: 10n }),
 * ]);                                                         // per-update errors name table and key
 * for await (const cell of sw.read(sw.register('ct_state').all())) { // { index, value: bigint }
 *   log.info('cell', { index: cell.index, value: cell.value });
 * }
 * sw.digests$('ct_delta').subscribe((d) => apply(d.entries)); // decoded by member name, acked for you
 * sw.arbitration$.subscribe((s) => log.info('arbitration', { state: s.kind }));
 * await sw.close();
 */
import { firstValueFrom, filter, timeout } from 'rxjs';
import type { Observable } from 'rxjs';
import { P4RuntimeError } from '../errors.js';
import type { ValueInput } from '../codec/index.js';
import type { p4 } from '../proto/index.js';
import { P4Schema } from '../schema/index.js';
import { ArbitrationSession } from './arbitration.js';
import type { ArbitrationState } from './arbitration.js';
import type { EntityRead, TableEntryRead } from './entity-codec.js';
import { HandleCache, allTablesQuery } from './handles.js';
import type { CounterHandle, DigestHandle, DirectCounterHandle, P4Update, ReadQuery, RegisterHandle, ResultOf, TableHandle, TableReadOptions } from './handles.js';
import { parseP4SwitchOptions } from './options.js';
import type { P4SwitchOptions, ResolvedP4SwitchOptions } from './options.js';
import { currentPipeline, ensurePipeline, getPipeline, setPipeline } from './pipeline.js';
import type { EnsurePipelineResult, PipelineAction, PipelineConfig, PipelineContext, PipelineResponseType, PipelineSpec } from './pipeline.js';
import { prepareRead, readEntities, readEntityChunks, readObservable, readRawEntities } from './read.js';
import type { PreparedRead, ReadContext } from './read.js';
import { StreamMessages } from './stream.js';
import type { DigestList, IdleTimeoutNotice, PacketIn, StreamErrorEvent } from './stream.js';
import { Http2Transport } from './http2-transport.js';
import { GrpcTransport } from './transport.js';
import type { P4RuntimeTransport } from './transport.js';
import { encodeWriteRequest, writeUpdates } from './write.js';
import type { WriteContext, WriteOptions } from './write.js';

/** A connected P4Runtime session with one device. */
export class P4Switch {
  private boundSchema: P4Schema | undefined;
  private handles: HandleCache | undefined;
  private closed = false;
  private readonly writeCtx: WriteContext;
  private readonly readCtx: ReadContext;
  private readonly pipelineCtx: PipelineContext;

  /** Arbitration state changes (connecting / primary / backup / disconnected), current one first. */
  readonly arbitration$: Observable<ArbitrationState>;
  /** Packets sent to the controller, metadata decoded by name. */
  readonly packetIn$: Observable<PacketIn>;
  /** Digest lists of every digest (see `digests$(name)` for one). */
  readonly digestLists$: Observable<DigestList>;
  /** Idle-timeout notifications, entries decoded by name. */
  readonly idleTimeouts$: Observable<IdleTimeoutNotice>;
  /** StreamErrors the target sent, and stream messages that could not be decoded. */
  readonly streamErrors$: Observable<StreamErrorEvent>;

  private constructor(
    /** The validated options this switch runs with. */
    readonly options: ResolvedP4SwitchOptions,
    private readonly transport: P4RuntimeTransport,
    private readonly session: ArbitrationSession,
    private readonly streams: StreamMessages,
  ) {
    this.boundSchema = options.schema;
    this.arbitration$ = session.state$;
    this.packetIn$ = streams.packetIn$;
    this.digestLists$ = streams.digestLists$;
    this.idleTimeouts$ = streams.idleTimeouts$;
    this.streamErrors$ = streams.streamErrors$;
    const schema = (): P4Schema | undefined => this.boundSchema;
    const electionId = (): bigint => session.electionId;
    const o = options;
    this.writeCtx = { transport, deviceId: o.deviceId, electionId, role: o.role, schema, batchSize: o.writeBatchSize, concurrency: o.writeConcurrency, logger: o.logger };
    this.readCtx = { transport, deviceId: o.deviceId, role: o.role, schema };
    this.pipelineCtx = { transport, deviceId: o.deviceId, electionId, role: o.role, logger: o.logger };
  }

  /**
   * Connects, opens the StreamChannel and arbitrates; resolves once the target has answered
   * (primary or backup — check `isPrimary`, or `waitForPrimary()`).
   * `call.signal` abandons a connect still waiting for the target (CANCELLED, the session closed).
   * @throws P4RuntimeError BAD_OPTIONS for invalid options; the target's code when arbitration fails.
   */
  static async connect(options: P4SwitchOptions, call: { readonly signal?: AbortSignal } = {}): Promise<P4Switch> {
    const o = parseP4SwitchOptions(options);
    const logger = o.logger.child({ device: o.deviceId, address: o.address });
    const transport = o.transport ?? (o.grpcClient === 'grpc-js' ? new GrpcTransport(o) : new Http2Transport(o));
    const session = new ArbitrationSession(transport, { ...o, logger });
    const streams = new StreamMessages(session, () => sw.boundSchema, o.autoAckDigests, logger);
    const sw: P4Switch = new P4Switch(o, transport, session, streams);
    const { signal } = call;
    let onAbort: (() => void) | undefined;
    try {
      const started = session.start();
      if (!signal) await started;
      else {
        started.catch(() => undefined); // abandoned on abort: its failure is no longer anyone's
        await Promise.race([
          started,
          new Promise<never>((_, reject) => {
            onAbort = () => reject(new P4RuntimeError('CANCELLED', `cancelled by the caller before ${o.address} answered`));
            if (signal.aborted) onAbort();
            else signal.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
      }
    } catch (e) {
      await sw.close();
      throw P4RuntimeError.from(e, `connect to ${o.address}`);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    return sw;
  }

  /** The current arbitration state. */
  get arbitration(): ArbitrationState {
    return this.session.current;
  }

  /** True while the target reports us as primary. */
  get isPrimary(): boolean {
    return this.session.current.kind === 'primary';
  }

  /** The election id we currently bid with. */
  get electionId(): bigint {
    return this.session.electionId;
  }

  /** The P4Info bound to this switch, if any. */
  get schema(): P4Schema | undefined {
    return this.boundSchema;
  }

  /** Resolves when we are primary; rejects after `timeoutMs` or when the session ends. */
  async waitForPrimary(timeoutMs = this.options.connectTimeoutMs): Promise<void> {
    await firstValueFrom(
      this.arbitration$.pipe(
        filter((s) => {
          if (s.kind === 'disconnected' && !s.retrying) throw s.error;
          return s.kind === 'primary';
        }),
        timeout({ first: timeoutMs, with: () => { throw new P4RuntimeError('NOT_PRIMARY', this.notPrimaryMessage(timeoutMs)); } }),
      ),
    );
  }

  /** Why waitForPrimary gave up, naming who holds the switch and what to change. */
  private notPrimaryMessage(timeoutMs: number): string {
    const a = this.session.current;
    const role = this.options.role ? ` in role '${this.options.role}'` : '';
    const head = `not primary for device ${this.options.deviceId} at ${this.options.address}${role} within ${timeoutMs} ms`;
    if (a.kind !== 'backup') return `${head} (state: ${a.kind})`;
    // No client is primary: the target keeps the highest election id it has seen, as the
    // specification says (BMv2 forgets a client that left; walkthrough 21 read "another client is primary").
    if (a.primaryElectionId === undefined) return `${head}: no client is primary, but the switch keeps the highest election id it has seen${a.highestSeen !== undefined ? ` (${a.highestSeen})` : ''} from a client gone since, above ours (${a.electionId}); give this one an election id at least that high, or ${role ? 'another role' : 'a role of its own where the target implements roles'}`;
    const other = a.primaryElectionId !== undefined ? `election id ${a.primaryElectionId}` : 'a higher election id';
    return `${head}: another client is primary with ${other} (ours: ${a.electionId}); give this one a higher election id, or stop the other client${role ? '' : ', or give one of them its own role where the target implements roles'}`;
  }

  /** Bids again with a new election id on the open stream (e.g. to take over as primary). */
  bid(electionId: bigint): void {
    this.session.rebid(electionId);
  }

  /** The target's P4Runtime API version (Capabilities RPC). */
  async capabilities(): Promise<string> {
    try {
      return (await this.transport.capabilities()).p4runtimeApiVersion ?? '';
    } catch (e) {
      throw P4RuntimeError.from(e, `Capabilities of ${this.options.address}`);
    }
  }

  /** Binds a P4Info for name look-ups (done by `ensurePipeline` and `fetchSchema` too). */
  bindSchema(schema: P4Schema | p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties): P4Schema {
    const s = schema instanceof P4Schema ? schema : P4Schema.fromP4Info(schema);
    this.boundSchema = s;
    this.handles = undefined;
    return s;
  }

  /** Reads the target's P4Info (GetForwardingPipelineConfig P4INFO_AND_COOKIE) and binds it. */
  async fetchSchema(): Promise<P4Schema> {
    const cfg = await this.getPipeline('P4INFO_AND_COOKIE');
    if (!cfg.p4info) throw new P4RuntimeError('FAILED_PRECONDITION', `device ${this.options.deviceId} returned no P4Info; push a pipeline first`);
    return this.bindSchema(cfg.p4info);
  }

  /** GetForwardingPipelineConfig. */
  getPipeline(responseType: PipelineResponseType = 'P4INFO_AND_COOKIE'): Promise<PipelineConfig> {
    return getPipeline(this.pipelineCtx, responseType);
  }

  /** The target's pipeline, or undefined when it runs none (however the target says so). */
  currentPipeline(responseType: PipelineResponseType = 'P4INFO_AND_COOKIE'): Promise<PipelineConfig | undefined> {
    return currentPipeline(this.pipelineCtx, responseType);
  }

  /** SetForwardingPipelineConfig; on a commit the P4Info becomes this switch's schema. */
  async setPipeline(action: PipelineAction, p4info: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties, deviceConfig: Uint8Array, cookie?: bigint): Promise<void> {
    await setPipeline(this.pipelineCtx, action, p4info, deviceConfig, cookie);
    if (action !== 'VERIFY' && action !== 'VERIFY_AND_SAVE') this.bindSchema(p4info);
  }

  /** Pushes the pipeline only when the target's cookie differs from ours; binds its schema either way. */
  async ensurePipeline(spec: PipelineSpec): Promise<EnsurePipelineResult> {
    const r = await ensurePipeline(this.pipelineCtx, spec);
    this.bindSchema(r.schema);
    return r;
  }

  private cache(): HandleCache {
    if (!this.handles) {
      if (!this.boundSchema) {
        throw new P4RuntimeError('FAILED_PRECONDITION', 'no P4Info bound to this switch: call ensurePipeline(), bindSchema() or fetchSchema(), or pass schema in the options');
      }
      this.handles = new HandleCache(this.boundSchema);
    }
    return this.handles;
  }

  /** A table by name, alias or id: `insert/modify/delete/setDefault`, `all/entry`. */
  table(name: string | number): TableHandle {
    return this.cache().table(name);
  }

  /** A register: `modify(index, value)`, `all()`, `at(index)`. */
  register(name: string | number): RegisterHandle {
    return this.cache().register(name);
  }

  /** An indirect counter: `modify(index, {bytes, packets})`, `all()`, `at(index)`. */
  counter(name: string | number): CounterHandle {
    return this.cache().counter(name);
  }

  /** The direct counter of a table (by table name): `modify(match, value)`, `all()`, `entry(match)`. */
  directCounter(table: string | number): DirectCounterHandle {
    return this.cache().directCounter(table);
  }

  /** A digest: `configure/modify/delete`, `config()`. */
  digest(name: string | number): DigestHandle {
    return this.cache().digest(name);
  }

  /** A query for every entry of every table. */
  allTables(options?: TableReadOptions): ReadQuery<TableEntryRead> {
    return allTablesQuery(options);
  }

  /**
   * Writes updates in batches of `writeBatchSize`; per-update failures become one WRITE_FAILED error.
   * Pass a generator to build updates while earlier batches are on the wire (large writes).
   */
  write(updates: P4Update | readonly P4Update[] | Iterable<P4Update>, options?: WriteOptions): Promise<void> {
    return writeUpdates(this.writeCtx, Symbol.iterator in updates ? (updates as Iterable<P4Update>) : [updates as P4Update], options);
  }

  /**
   * The bytes of the WriteRequest `write` would send for `updates` as one batch, without sending
   * it: for captures and logs, and to have the encoder compiled before a write whose timing matters.
   *
   * @example
   * ```ts
   * const bytes = sw.encodeWrite([sw.register('ct_state').modify(3, 7n)], { atomicity: 'DATAPLANE_ATOMIC' });
   * ```
   */
  encodeWrite(updates: P4Update | readonly P4Update[], options?: Pick<WriteOptions, 'atomicity'>): Uint8Array {
    return encodeWriteRequest(this.writeCtx, Array.isArray(updates) ? (updates as readonly P4Update[]) : [updates as P4Update], options);
  }

  /** Reads by query, decoded by name, as an async iterable (stops the call when you break out). */
  read<Q extends ReadQuery<EntityRead>>(queries: Q | readonly Q[]): AsyncIterable<ResultOf<Q>> {
    return readEntities(this.readCtx, queries);
  }

  /** The same read, one array per ReadResponse (cheaper per entity for reads of many cells); also of a prepared read. */
  readChunks<Q extends ReadQuery<EntityRead>>(queries: Q | readonly Q[] | PreparedRead<Q>): AsyncIterable<Array<ResultOf<Q>>> {
    return readEntityChunks(this.readCtx, queries);
  }

  /**
   * Builds and encodes a Read once, for `readChunks` to send as often as needed with no encoding then.
   * @example
   * const freezeRead = sw.prepareRead([sw.register('head').at(3), sw.counter('vm_tx').at(7)]);
   * for await (const chunk of sw.readChunks(freezeRead)) console.log(chunk);
   */
  prepareRead<Q extends ReadQuery<EntityRead>>(queries: Q | readonly Q[]): PreparedRead<Q> {
    return prepareRead(this.readCtx, queries);
  }

  /** The same read as an Observable. */
  read$<Q extends ReadQuery<EntityRead>>(queries: Q | readonly Q[]): Observable<ResultOf<Q>> {
    return readObservable(this.readCtx, queries);
  }

  /** Reads everything a query returns into an array (for small reads). */
  async readAll<Q extends ReadQuery<EntityRead>>(queries: Q | readonly Q[]): Promise<Array<ResultOf<Q>>> {
    const out: Array<ResultOf<Q>> = [];
    for await (const xs of this.readChunks(queries)) for (const x of xs) out.push(x);
    return out;
  }

  /** Reads raw entities (no schema needed). */
  readRaw(entities: readonly p4.v1.Entity.$Properties[]): AsyncIterable<p4.v1.Entity> {
    return readRawEntities(this.readCtx, entities);
  }

  /** The decoded lists of one digest, acked automatically (unless `autoAckDigests: false`). */
  digests$(name: string | number): Observable<DigestList> {
    return this.streams.digests$(this.cache().digest(name).info.id);
  }

  /** Sends a packet with packet_out metadata by field name. */
  packetOut(payload: Uint8Array, metadata?: Readonly<Record<string, ValueInput>>): void {
    this.streams.packetOut(payload, metadata);
  }

  /** Acks a digest list by hand (when `autoAckDigests` is false). */
  ackDigest(digestId: number, listId: bigint): void {
    this.streams.ackDigest(digestId, listId);
  }

  /** Closes the stream and the channel; the observables complete. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    this.streams.close();
    // Only close a transport we created: an injected one may be shared.
    if (!this.options.transport) this.transport.close();
  }
}

/**
 * The forwarding pipeline: get it, set it, and `ensurePipeline` — push only when the target's cookie
 * differs from ours. Our cookie is a stable 64-bit hash of what we would push (the encoded P4Info
 * and the device config), so an unchanged pipeline is never re-pushed (a push wipes table state).
 */
import { createHash } from 'node:crypto';
import { P4RuntimeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { p4, toBigInt, toLong, toUint128 } from '../proto/index.js';
import type { LongLike } from '../proto/index.js';
import { P4Schema } from '../schema/index.js';
import type { P4RuntimeTransport } from './transport.js';

/** What GetForwardingPipelineConfig should return. */
export type PipelineResponseType = 'ALL' | 'COOKIE_ONLY' | 'P4INFO_AND_COOKIE' | 'DEVICE_CONFIG_AND_COOKIE';

/** SetForwardingPipelineConfig actions. */
export type PipelineAction = 'VERIFY' | 'VERIFY_AND_SAVE' | 'VERIFY_AND_COMMIT' | 'COMMIT' | 'RECONCILE_AND_COMMIT';

/** A pipeline as the target reported it. */
export interface PipelineConfig {
  readonly p4info: p4.config.v1.P4Info | undefined;
  readonly deviceConfig: Uint8Array;
  /** Undefined when the target holds no cookie (or no pipeline). */
  readonly cookie: bigint | undefined;
}

/** What `ensurePipeline` pushes: a P4Info (message, properties or schema) and the target's binary. */
export interface PipelineSpec {
  readonly p4info?: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties;
  readonly schema?: P4Schema;
  /** For BMv2: the bytes of the JSON p4c wrote. */
  readonly deviceConfig: Uint8Array | string;
  /**
   * Whether a target running another pipeline gets ours (default true). false: only a target with
   * no pipeline does; another one is refused with FAILED_PRECONDITION, since a push clears every
   * table entry, register and counter the target holds.
   */
  readonly replace?: boolean;
}

/** The outcome of `ensurePipeline`. */
export interface EnsurePipelineResult {
  readonly pushed: boolean;
  readonly cookie: bigint;
  readonly schema: P4Schema;
}

/** What the pipeline calls need from the switch. */
export interface PipelineContext {
  readonly transport: P4RuntimeTransport;
  readonly deviceId: bigint;
  electionId(): bigint;
  readonly role: string;
  readonly logger: Logger;
}

/**
 * The cookie of a pipeline: the first 8 bytes (big-endian) of SHA-256 over the encoded P4Info's
 * length, the P4Info, and the device config — the length prefix keeps the split unambiguous.
 */
export function pipelineCookie(p4info: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties, deviceConfig: Uint8Array): bigint {
  const info = p4.config.v1.P4Info.encode(p4info).finish();
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(info.length));
  const digest = createHash('sha256').update(len).update(info).update(deviceConfig).digest();
  return digest.readBigUInt64BE(0);
}

/** A P4Info as plain data with every default value left out, keys sorted: equal for equal content however it was built or decoded. */
function canonicalP4Info(p4info: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties): string {
  // Through the wire format first: a message from text may carry explicit zeros a decoded one lacks.
  const decoded = p4.config.v1.P4Info.decode(p4.config.v1.P4Info.encode(p4info).finish());
  const plain = p4.config.v1.P4Info.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: false });
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length === 0 ? undefined : v.map((x) => strip(x) ?? null);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = strip((v as Record<string, unknown>)[k]);
        if (x !== undefined) out[k] = x;
      }
      return Object.keys(out).length === 0 ? undefined : out;
    }
    return v === 0 || v === '0' || v === '' || v === false || v === null ? undefined : v;
  };
  return JSON.stringify(strip(plain) ?? {});
}

/**
 * Whether two P4Infos describe the same program: equal content, whatever their encoding. Two builds
 * of one program (a BMv2 JSON that differs only in whitespace, say) have equal P4Infos but
 * different cookies.
 * @example
 * if (sameP4Info((await sw.getPipeline()).p4info ?? {}, schema.p4info)) log.info('same program');
 */
export function sameP4Info(a: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties, b: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties): boolean {
  return canonicalP4Info(a) === canonicalP4Info(b);
}

/** Reads the target's pipeline. A target without one answers FAILED_PRECONDITION / NOT_FOUND, or an empty config. */
export async function getPipeline(ctx: PipelineContext, responseType: PipelineResponseType = 'P4INFO_AND_COOKIE'): Promise<PipelineConfig> {
  const T = p4.v1.GetForwardingPipelineConfigRequest.ResponseType;
  let res: p4.v1.GetForwardingPipelineConfigResponse;
  try {
    res = await ctx.transport.getPipeline({ deviceId: toLong(ctx.deviceId), responseType: T[responseType] });
  } catch (e) {
    throw P4RuntimeError.from(e, `GetForwardingPipelineConfig of device ${ctx.deviceId}`);
  }
  const c = res.config;
  return {
    p4info: c?.p4info ? (c.p4info as p4.config.v1.P4Info) : undefined,
    deviceConfig: c?.p4DeviceConfig ?? new Uint8Array(),
    cookie: c?.cookie ? toBigInt(c.cookie.cookie as LongLike) : undefined,
  };
}

/** Sends SetForwardingPipelineConfig. */
export async function setPipeline(
  ctx: PipelineContext,
  action: PipelineAction,
  p4info: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties,
  deviceConfig: Uint8Array,
  cookie?: bigint,
): Promise<void> {
  const A = p4.v1.SetForwardingPipelineConfigRequest.Action;
  const req: p4.v1.SetForwardingPipelineConfigRequest.$Properties = {
    deviceId: toLong(ctx.deviceId),
    electionId: toUint128(ctx.electionId()),
    action: A[action],
    config: { p4info, p4DeviceConfig: deviceConfig, cookie: cookie === undefined ? null : { cookie: toLong(cookie) } },
  };
  if (ctx.role !== '') req.role = ctx.role;
  try {
    await ctx.transport.setPipeline(req);
  } catch (e) {
    throw P4RuntimeError.from(e, `SetForwardingPipelineConfig ${action} on device ${ctx.deviceId}`);
  }
}

const NO_PIPELINE = new Set(['FAILED_PRECONDITION', 'NOT_FOUND']);

/**
 * The target's pipeline, or undefined when it runs none: it answers FAILED_PRECONDITION or
 * NOT_FOUND, or (asked for the P4Info) a config whose P4Info is empty, as some targets do.
 */
export async function currentPipeline(ctx: PipelineContext, responseType: PipelineResponseType = 'P4INFO_AND_COOKIE'): Promise<PipelineConfig | undefined> {
  let c: PipelineConfig;
  try {
    c = await getPipeline(ctx, responseType);
  } catch (e) {
    if (e instanceof P4RuntimeError && NO_PIPELINE.has(e.code)) return undefined;
    throw e;
  }
  if (responseType === 'COOKIE_ONLY') return c;
  const i = c.p4info;
  return i && (i.tables?.length || i.actions?.length || i.pkgInfo) ? c : undefined;
}

/** The target's cookie, or undefined when it has no pipeline yet. */
async function targetCookie(ctx: PipelineContext): Promise<bigint | undefined> {
  return (await currentPipeline(ctx, 'COOKIE_ONLY'))?.cookie;
}

/**
 * Pushes the pipeline with VERIFY_AND_COMMIT only when the target's cookie differs from ours (and,
 * with `replace: false`, only when the target has none).
 * @example
 * const { pushed } = await ensurePipeline(ctx, { p4info, deviceConfig: readFileSync('prog.json') });
 */
export async function ensurePipeline(ctx: PipelineContext, spec: PipelineSpec): Promise<EnsurePipelineResult> {
  const schema = spec.schema ?? (spec.p4info ? P4Schema.fromP4Info(spec.p4info) : undefined);
  if (!schema) throw new P4RuntimeError('BAD_OPTIONS', 'ensurePipeline: give p4info (a P4Info message) or schema (a P4Schema)');
  if (spec.deviceConfig === undefined) throw new P4RuntimeError('BAD_OPTIONS', 'ensurePipeline: deviceConfig is required (for BMv2, the bytes of the JSON p4c wrote)');
  const deviceConfig = typeof spec.deviceConfig === 'string' ? Buffer.from(spec.deviceConfig) : spec.deviceConfig;
  const cookie = pipelineCookie(schema.p4info, deviceConfig);
  const current = await targetCookie(ctx);
  if (current === cookie) {
    ctx.logger.info('pipeline unchanged; not pushed', { cookie: `0x${cookie.toString(16)}` });
    return { pushed: false, cookie, schema };
  }
  if (current !== undefined && spec.replace === false) {
    throw new P4RuntimeError('FAILED_PRECONDITION', `device ${ctx.deviceId} runs another pipeline (cookie 0x${current.toString(16)}; ours 0x${cookie.toString(16)}); not replaced: a push would clear every table entry, register and counter it holds`);
  }
  await setPipeline(ctx, 'VERIFY_AND_COMMIT', schema.p4info, deviceConfig, cookie);
  ctx.logger.info('pipeline pushed', { cookie: `0x${cookie.toString(16)}`, previous: current === undefined ? 'none' : `0x${current.toString(16)}` });
  return { pushed: true, cookie, schema };
}

/**
 * SetForwardingPipelineConfig (VERIFY, VERIFY_AND_SAVE, VERIFY_AND_COMMIT, COMMIT,
 * RECONCILE_AND_COMMIT), GetForwardingPipelineConfig (ALL, COOKIE_ONLY, P4INFO_AND_COOKIE,
 * DEVICE_CONFIG_AND_COOKIE) and Capabilities.
 */
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { u64 } from '../p4rt/int64.js';
import { GrpcStatus, SimError, fail, rpcError } from '../p4rt/status.js';
import { parseBmv2Json } from '../pipeline/bmv2-json.js';
import { ForwardingState } from '../pipeline/forwarding-state.js';
import { P4InfoIndex } from '../pipeline/p4info-index.js';
import { NULL_PROGRAM, findProgram, normalizeProgramName } from '../programs/registry.js';
import type { SimProgram } from '../program.js';
import { checkPrimaryRequest } from './primary-check.js';
import type { InstalledPipeline, SimDevice } from './sim-device.js';

const ACTIONS = ['UNSPECIFIED', 'VERIFY', 'VERIFY_AND_SAVE', 'VERIFY_AND_COMMIT', 'COMMIT', 'RECONCILE_AND_COMMIT'] as const;

function resolveProgram(dev: SimDevice, names: readonly string[]): SimProgram {
  for (const n of names) {
    if (!n) continue;
    const extra = dev.options.programs.find((p) => normalizeProgramName(p.name) === normalizeProgramName(n));
    const p = extra ?? findProgram(n);
    if (p) return p;
  }
  return NULL_PROGRAM;
}

/** Verifies a config and builds the pipeline it describes (state empty); throws INVALID_ARGUMENT naming the problem. */
function build(dev: SimDevice, config: p4.v1.ForwardingPipelineConfig.$Properties | null | undefined): InstalledPipeline {
  if (!config) throw fail.invalid('config is unset; send a ForwardingPipelineConfig with the P4Info (and the device config)');
  if (!config.p4info) throw fail.invalid('config.p4info is unset; send the P4Info of the program');
  const index = P4InfoIndex.build(config.p4info);
  const deviceConfig = config.p4DeviceConfig ? Uint8Array.from(config.p4DeviceConfig) : new Uint8Array();
  let jsonProgram = '';
  if (dev.profile.deviceConfig === 'bmv2-json') jsonProgram = parseBmv2Json(deviceConfig, index).programName;
  const program = resolveProgram(dev, [dev.options.program ?? '', jsonProgram, index.pkgName]);
  if (program === NULL_PROGRAM) {
    dev.logger.warn('no behavioural model for this pipeline; packets will be dropped', { tried: [dev.options.program, jsonProgram, index.pkgName].filter(Boolean) });
  }
  let state: ForwardingState;
  try {
    state = new ForwardingState(index, program.defaultActions ?? {});
  } catch (e) {
    throw fail.invalid(`the P4Info does not fit program '${program.name}': ${e instanceof Error ? e.message : String(e)}`);
  }
  const cookie = config.cookie != null ? toBigInt(config.cookie.cookie as LongLike) : null;
  return { p4info: config.p4info, deviceConfig, cookie, index, state, program };
}

/** Handles SetForwardingPipelineConfig; returns the error to answer with, or null for OK. */
export function handleSetPipeline(dev: SimDevice, req: p4.v1.SetForwardingPipelineConfigRequest.$Properties): ServerErrorResponse | null {
  const gate = checkPrimaryRequest(dev, req);
  if ('error' in gate) return gate.error;
  const { deviceId } = gate;
  if (deviceId !== dev.deviceId) return rpcError(GrpcStatus.FAILED_PRECONDITION, `device id ${deviceId} has no target behind it; this switch is device ${dev.deviceId}`);
  const action = ACTIONS[req.action ?? 0];
  try {
    switch (action) {
      case undefined:
      case 'UNSPECIFIED':
        throw fail.invalid(`action is ${action ?? req.action}; use VERIFY, VERIFY_AND_SAVE, VERIFY_AND_COMMIT, COMMIT or RECONCILE_AND_COMMIT`);
      case 'COMMIT': {
        const c = req.config;
        if (c && (c.p4info != null || (c.p4DeviceConfig?.length ?? 0) > 0 || c.cookie != null)) throw fail.invalid('COMMIT realizes the saved config; do not send a config with it');
        if (!dev.saved) throw fail.notFound('no saved config to COMMIT; VERIFY_AND_SAVE one first');
        dev.commit(dev.saved);
        return null;
      }
      case 'VERIFY':
        build(dev, req.config);
        return null;
      case 'VERIFY_AND_SAVE':
        dev.saved = build(dev, req.config);
        return null;
      case 'VERIFY_AND_COMMIT':
        dev.commit(build(dev, req.config));
        return null;
      case 'RECONCILE_AND_COMMIT': {
        if (!dev.profile.reconcile) throw fail.unimplemented('RECONCILE_AND_COMMIT is not supported by this target; use VERIFY_AND_COMMIT');
        const p = build(dev, req.config);
        if (dev.committed) p.state.reconcileFrom(dev.committed.state, dev.scheduler.now());
        dev.commit(p);
        return null;
      }
    }
  } catch (e) {
    if (e instanceof SimError) return rpcError(e.code, e.message);
    throw e;
  }
}

/** Handles GetForwardingPipelineConfig. */
export function handleGetPipeline(
  dev: SimDevice,
  req: p4.v1.GetForwardingPipelineConfigRequest.$Properties,
): { error: ServerErrorResponse } | { response: p4.v1.GetForwardingPipelineConfigResponse.$Properties } {
  const deviceId = toBigInt(req.deviceId as LongLike);
  if (deviceId !== dev.deviceId) {
    return { error: dev.profile.deviceIds === 'spec' ? rpcError(GrpcStatus.NOT_FOUND, dev.unknownDevice(deviceId)) : rpcError(GrpcStatus.FAILED_PRECONDITION, dev.msgs.noPipeline()) };
  }
  const p = dev.committed;
  if (!p) {
    if (dev.profile.getWithoutPipeline === 'failed-precondition') return { error: rpcError(GrpcStatus.FAILED_PRECONDITION, dev.msgs.noPipeline()) };
    return { response: {} };
  }
  const rt = req.responseType ?? 0;
  if (rt < 0 || rt > 3) return { error: rpcError(GrpcStatus.INVALID_ARGUMENT, `response_type ${rt} is not ALL, COOKIE_ONLY, P4INFO_AND_COOKIE or DEVICE_CONFIG_AND_COOKIE`) };
  const config: p4.v1.ForwardingPipelineConfig.$Properties = {};
  if (p.cookie !== null) config.cookie = { cookie: u64(p.cookie) };
  if (rt === 0 || rt === 2) config.p4info = p.p4info;
  if ((rt === 0 || rt === 3) && p.deviceConfig.length > 0) config.p4DeviceConfig = p.deviceConfig;
  return { response: { config } };
}

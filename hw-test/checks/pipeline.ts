/**
 * Pipeline checks: GetForwardingPipelineConfig returns the P4Info we expect and a cookie; the
 * pipeline can be set (committed by this run with --push-pipeline, else VERIFY only) and the cookie
 * comes back as pushed.
 */
import { pipelineCookie } from 'p4runtime-ts';
import { fail, pass, unsupported } from '../check-recorder.js';
import type { CheckOutcome } from '../check-recorder.js';
import { comparePipeline } from '../pipeline-identity.js';
import type { HwTestSession } from '../session.js';

const hex = (c: bigint | undefined): string => (c === undefined ? 'none' : `0x${c.toString(16)}`);

/** The cookie our files give, when we have a device config. */
export function expectedCookie(s: HwTestSession): bigint | undefined {
  if (s.pipeline.pushedCookie !== undefined) return s.pipeline.pushedCookie;
  return s.o.deviceConfig ? pipelineCookie(s.schema.p4info, s.o.deviceConfig) : undefined;
}

/** Get P4INFO_AND_COOKIE: the target runs our P4Info (and our cookie, when we can compute it). */
export async function checkPipelineGet(s: HwTestSession): Promise<CheckOutcome> {
  const cfg = await s.sw.getPipeline('P4INFO_AND_COOKIE');
  const id = comparePipeline(s.schema, expectedCookie(s), cfg);
  if (id.kind !== 'match') return fail(`the target's pipeline is not the expected one: ${id.differences.join('; ')}`);
  const cookieNote = id.expectedCookie === undefined ? ' (no --device-config: cookie not compared)' : ' (matches --p4info + --device-config)';
  return pass(`P4Info matches ${s.o.p4infoSource} (program '${s.schema.programName}'); cookie ${hex(id.targetCookie)}${cookieNote}`);
}

/** Set: pushed by this run (cookie round trip), or VERIFY when the target already runs it. */
export async function checkPipelineSet(s: HwTestSession): Promise<CheckOutcome> {
  const p = s.pipeline;
  if (p.pushed) {
    const now = (await s.sw.getPipeline('COOKIE_ONLY')).cookie;
    if (now !== p.pushedCookie) return fail(`pushed with cookie ${hex(p.pushedCookie)}, but GetForwardingPipelineConfig returns ${hex(now)}`);
    return pass(`SetForwardingPipelineConfig VERIFY_AND_COMMIT with cookie ${hex(p.pushedCookie)}; GetForwardingPipelineConfig returns the same cookie`);
  }
  if (!s.o.deviceConfig) return unsupported('not run: needs --device-config to send a pipeline (and --push-pipeline to commit one)');
  const cookie = pipelineCookie(s.schema.p4info, s.o.deviceConfig);
  await s.sw.setPipeline('VERIFY', s.schema.p4info, s.o.deviceConfig, cookie);
  const now = (await s.sw.getPipeline('COOKIE_ONLY')).cookie;
  if (now !== cookie) return fail(`VERIFY accepted the pipeline, but the target's cookie ${hex(now)} is not ours (${hex(cookie)})`);
  return pass(`SetForwardingPipelineConfig VERIFY accepted --p4info + --device-config (not committed: the target already runs them, cookie ${hex(now)})`);
}

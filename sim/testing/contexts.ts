/**
 * Unit-test helpers: a validated l2_echo pipeline's state and the codec/write/read contexts a
 * profile gives, without any gRPC. Not product code.
 */
import type { p4 } from 'p4runtime-ts/proto';
import { messagesFor } from '../messages.js';
import { ForwardingState } from '../pipeline/forwarding-state.js';
import { P4InfoIndex } from '../pipeline/p4info-index.js';
import type { ReadContext } from '../pipeline/entity-reader.js';
import type { WriteContext } from '../pipeline/entity-writer.js';
import { simProfile } from '../profiles.js';
import type { SimProfileName } from '../profiles.js';
import { L2_ECHO_PROGRAM } from '../programs/l2-echo/l2-echo.js';
import { l2EchoP4Info } from '../programs/l2-echo/l2-echo-p4info.js';

/** l2_echo state plus contexts for one profile (`p4info`: l2_echo's, or a variant of it); `now` moves the clock the contexts report. */
export function l2EchoContexts(profile: SimProfileName = 'full', canonicalBytestrings = false, p4info: p4.config.v1.P4Info = l2EchoP4Info()): { state: ForwardingState; write(nowMs?: number): WriteContext; read(nowMs?: number): ReadContext } {
  const index = P4InfoIndex.build(p4info);
  const state = new ForwardingState(index, L2_ECHO_PROGRAM.defaultActions);
  const p = simProfile(profile, canonicalBytestrings);
  const base = { index, profile: p, msgs: messagesFor(p.dialect), state };
  return { state, write: (nowMs = 0) => ({ ...base, nowMs }), read: (nowMs = 0) => ({ ...base, nowMs }) };
}

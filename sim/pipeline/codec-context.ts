/**
 * What entity validation needs besides the message itself: the P4Info, the profile (bytestring
 * policy, register support) and the words the profile answers with.
 */
import type { Messages } from '../messages.js';
import type { SimProfile } from '../profiles.js';
import { bitLength, bytesToBigInt, canonicalBytes, isCanonical, toHex } from '../p4rt/bytestring.js';
import { fail } from '../p4rt/status.js';
import type { P4InfoIndex } from './p4info-index.js';

/** The context every decode/encode of an entity runs in. */
export interface CodecContext {
  readonly index: P4InfoIndex;
  readonly profile: SimProfile;
  readonly msgs: Messages;
}

/**
 * Decodes a client bytestring meant for a `width`-bit unsigned value. Empty strings and values that
 * do not fit are INVALID_ARGUMENT; so are padded (non-canonical) strings where the profile says so.
 * `what` names the value in the message, e.g. `table 'acl' match field 'dst'`.
 */
export function decodeValue(ctx: CodecContext, bytes: Uint8Array | null | undefined, width: number, what: string): bigint {
  const b = bytes ?? new Uint8Array();
  if (b.length === 0) throw fail.invalid(`${what}: empty bytestring; send at least one byte (0x00 for zero)`);
  const v = bytesToBigInt(b);
  if (bitLength(v) > width) throw fail.invalid(ctx.msgs.doesNotFit(width, `${what} is ${toHex(b)}`));
  if (ctx.profile.bytestrings === 'canonical-only' && !isCanonical(b)) {
    throw fail.invalid(`${what}: bytestring ${toHex(b)} is not canonical; send the shortest big-endian form ${toHex(canonicalBytes(v))} (strict canonical bytestrings are on: canonicalBytestrings / --canonical-bytestrings)`);
  }
  return v;
}

/** `0x0000abcd`, the way ids are shown in messages. */
export function hexId(id: number): string {
  return `0x${id.toString(16).padStart(8, '0')}`;
}

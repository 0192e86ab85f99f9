/**
 * WriteRequest deserialization for the sim's Write RPC. A migration's pause ends with one Write
 * of hundreds (at 10^5 flows, thousands) of register-cell MODIFYs; protobufjs built five objects
 * and a Long per cell, more than the sim then spent applying it. Register-cell updates of the
 * plain form (type, entity.register_entry with register_id, index and a bitstring) are read by
 * hand into plain objects; any other update, and the request's other fields, go through the
 * generated decoder. Field numbers from p4runtime.proto (WriteRequest device_id = 1,
 * election_id = 3, updates = 4, atomicity = 5, role = 6; Update type = 1, entity = 2).
 *
 * The result, and whether it throws, is protobufjs': cell-wire.ts takes only the encodings
 * protobufjs reads the same way and leaves everything else to it, and when walking the request by
 * hand throws, protobufjs decodes the whole buffer, so a malformed request fails (or, for the odd
 * encoding it tolerates, succeeds) with protobufjs' own verdict and message.
 */
import { LEN, VARINT, WireReader, p4 } from 'p4runtime-ts/proto';
import { bodyStart, decodeExactly, registerCell } from './cell-wire.js';
import type { RequestLayout } from './cell-wire.js';

type Update = p4.v1.Update.$Properties;

/** A register-cell update at [start, end) as a plain Update, or undefined when it needs the general decoder. */
function registerUpdate(buf: Uint8Array, start: number, end: number): Update | undefined {
  const u = new WireReader(buf, start, end);
  let type = 0;
  let entity = -1;
  let entityEnd = 0;
  for (let tag = u.pos; u.next(); tag = u.pos) {
    if (u.pos - tag !== 1) return undefined;
    if (u.field === 1 && u.wireType === VARINT) type = u.varint();
    else if (u.field === 2 && u.wireType === LEN && entity < 0) {
      // A second entity would merge into the first: the general decoder's business.
      entity = bodyStart(u);
      if (entity < 0) return undefined;
      entityEnd = u.pos;
    } else return undefined;
  }
  // protobufjs reads type as int32 (the low 32 bits, signed): only a non-negative int32 reads the same.
  if (entity < 0 || type > 0x7fff_ffff) return undefined;
  const cell = registerCell(buf, entity, entityEnd, true);
  // `type` as the sim's writer reads it (`update.type ?? 0`), UNSPECIFIED included.
  return cell && { type, entity: cell };
}

/** WriteRequest.updates (4): register-cell updates by hand. */
const WRITE_REQUEST: RequestLayout<p4.v1.WriteRequest, Update> = {
  request: p4.v1.WriteRequest,
  field: 4,
  item: p4.v1.Update,
  byHand: registerUpdate,
  store: (req, updates) => {
    req.updates = updates;
  },
};

/** Decodes a WriteRequest as protobufjs does (throws on a malformed one, with protobufjs' message). */
export function decodeWriteRequest(buf: Uint8Array): p4.v1.WriteRequest {
  return decodeExactly(buf, WRITE_REQUEST);
}

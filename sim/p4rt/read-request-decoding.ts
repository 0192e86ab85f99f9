/**
 * ReadRequest deserialization for the sim's Read RPC. A migration's pause reads thousands of
 * register cells in one request, each a bare register_id and index; protobufjs built three
 * messages and a Long per cell, and that plus its garbage was a large share of the sim's CPU for
 * such reads. Plain register-cell queries are read by hand into plain objects; any other entity,
 * and the request's other fields, go through the generated decoder. Field numbers from
 * p4runtime.proto (ReadRequest device_id = 1, entities = 2, role = 3).
 *
 * The result, and whether it throws, is protobufjs': cell-wire.ts takes only the encodings
 * protobufjs reads the same way and leaves everything else to it, and when walking the request by
 * hand throws, protobufjs decodes the whole buffer, so a malformed request fails (or, for the odd
 * encoding it tolerates, succeeds) with protobufjs' own verdict and message.
 */
import { p4 } from 'p4runtime-ts/proto';
import { decodeExactly, registerCell } from './cell-wire.js';
import type { RequestLayout } from './cell-wire.js';

type Entity = p4.v1.Entity.$Properties;

/** ReadRequest.entities (2): register-cell queries (no data) by hand. */
const READ_REQUEST: RequestLayout<p4.v1.ReadRequest, Entity> = {
  request: p4.v1.ReadRequest,
  field: 2,
  item: p4.v1.Entity,
  byHand: (buf, start, end) => registerCell(buf, start, end, false),
  store: (req, entities) => {
    req.entities = entities;
  },
};

/** Decodes a ReadRequest as protobufjs does (throws on a malformed one, with protobufjs' message). */
export function decodeReadRequest(buf: Uint8Array): p4.v1.ReadRequest {
  return decodeExactly(buf, READ_REQUEST);
}

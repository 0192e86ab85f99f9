import { p4, google } from 'p4runtime-ts/proto';
const e = p4.v1.Entity.encode({ tableEntry: { tableId: 5, match: [{ fieldId: 1, exact: { value: new Uint8Array([0,4]) } }], idleTimeoutNs: 5 } }).finish();
const d = p4.v1.Entity.decode(e);
console.log(d.entity, d.tableEntry, d.tableEntry?.match[0]?.fieldMatchType, typeof d.tableEntry?.idleTimeoutNs, d.tableEntry?.priority, d.tableEntry?.action);
console.log(p4.v1.Entity.decode(new Uint8Array([])).tableEntry);
console.log(Object.keys(d.tableEntry!), d.tableEntry!.hasOwnProperty('priority'));
try { p4.v1.Entity.decode(new Uint8Array([0xff,0xff,0xff])); } catch (e) { console.log('err', (e as Error).message); }
const s = google.rpc.Status.encode({code: 2, details:[{typeUrl:'x', value: new Uint8Array([1])}]}).finish(); console.log(s);
console.log(p4.v1.WriteRequest.Atomicity, p4.config.v1.MatchField.MatchType);
const m = p4.v1.FieldMatch.decode(p4.v1.FieldMatch.encode({fieldId:1, exact:{value:new Uint8Array()}}).finish()); console.log(m.fieldMatchType, m.exact);

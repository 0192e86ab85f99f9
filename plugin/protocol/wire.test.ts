import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { MIGRATION_METHODS, MIGRATION_PACKAGE, MIGRATION_SERVICE } from './wire.js';

describe('protocol wire — the committed descriptor', () => {
  it('protocol wire — gen/migration.json is current with migration.proto (run node plugin/protocol/gen-proto.mjs)', () => {
    const parsed = protobuf.parse(readFileSync(new URL('./migration.proto', import.meta.url), 'utf8'), { keepCase: false }).root.toJSON();
    const committed = JSON.parse(readFileSync(new URL('./gen/migration.json', import.meta.url), 'utf8')) as unknown;
    expect(committed).toEqual(parsed);
  });
  it('protocol wire — every RPC of the service has a definition, ExportDeltas and Transfer stream', () => {
    const svc = protobuf.parse(readFileSync(new URL('./migration.proto', import.meta.url), 'utf8')).root.lookupService(`${MIGRATION_PACKAGE}.Migration`);
    expect(Object.keys(svc.methods)).toEqual([...MIGRATION_METHODS]);
    expect(MIGRATION_METHODS.filter((m) => MIGRATION_SERVICE[m].responseStream)).toEqual(['ExportDeltas', 'Transfer']);
  });
  it('protocol wire — a request that does not decode reaches the handler as a failure, not an exception', () => {
    const d = MIGRATION_SERVICE.ImportStaged.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    expect(d).toMatchObject({ ok: false, error: expect.stringMatching(/malformed ImportRequest \(4 bytes\)/) as unknown });
  });
});

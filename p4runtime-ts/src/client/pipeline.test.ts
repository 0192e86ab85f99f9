import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { p4 } from '../proto/index.js';
import { pipelineCookie, sameP4Info } from './pipeline.js';
import { TEST_DEVICE_CONFIG, startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';
import { testSchema } from './testing/test-p4info.js';

describe('pipeline', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('pipeline — the cookie is a stable 64-bit hash that changes with P4Info or device config', () => {
    const a = pipelineCookie(testSchema().p4info, TEST_DEVICE_CONFIG);
    expect(pipelineCookie(testSchema().p4info, Buffer.from(TEST_DEVICE_CONFIG))).toBe(a);
    expect(a).toBeGreaterThanOrEqual(0n);
    expect(a).toBeLessThan(1n << 64n);
    expect(pipelineCookie(testSchema().p4info, Buffer.from('{"program":"other"}'))).not.toBe(a);
    const info = testSchema().p4info;
    info.tables[0]!.size = 2048;
    expect(pipelineCookie(info, TEST_DEVICE_CONFIG)).not.toBe(a);
  });

  it('pipeline — sameP4Info: equal content is the same program however it was built or decoded (explicit zeros, the wire); another size or name is not', () => {
    const ours = testSchema().p4info;
    const wire = p4.config.v1.P4Info.decode(p4.config.v1.P4Info.encode(ours).finish());
    expect(sameP4Info(wire, ours)).toBe(true);
    // Explicit defaults, as a text-format parser may leave them: the same content.
    const explicit = p4.config.v1.P4Info.fromObject({ ...p4.config.v1.P4Info.toObject(ours), pkgInfo: { ...p4.config.v1.P4Info.toObject(ours)['pkgInfo'] as object, doc: { brief: '' } } });
    expect(sameP4Info(explicit, ours)).toBe(true);
    const other = testSchema().p4info;
    other.tables[0]!.size = 2048;
    expect(sameP4Info(other, ours)).toBe(false);
    const renamed = testSchema().p4info;
    renamed.tables[0]!.preamble!.name = 'renamed';
    expect(sameP4Info(renamed, ours)).toBe(false);
  });

  it('pipeline — ensurePipeline pushes with VERIFY_AND_COMMIT only when the cookie differs', async () => {
    const sw = await h.connect(10n);
    const first = await sw.ensurePipeline({ schema: testSchema(), deviceConfig: TEST_DEVICE_CONFIG });
    expect(first.pushed).toBe(true);
    expect(h.server.pipelineSets).toHaveLength(1);
    expect(h.server.pipelineSets[0]!.action).toBe(3); // VERIFY_AND_COMMIT

    const again = await sw.ensurePipeline({ p4info: testSchema().p4info, deviceConfig: TEST_DEVICE_CONFIG });
    expect(again).toMatchObject({ pushed: false, cookie: first.cookie });
    expect(h.server.pipelineSets).toHaveLength(1);

    const changed = await sw.ensurePipeline({ schema: testSchema(), deviceConfig: Buffer.from('{"program":"v2"}') });
    expect(changed.pushed).toBe(true);
    expect(changed.cookie).not.toBe(first.cookie);
    expect(h.server.pipelineSets).toHaveLength(2);
  });

  it('pipeline — getPipeline returns the P4Info and the cookie; fetchSchema binds it on a fresh client', async () => {
    const sw = await h.connect(10n);
    const { cookie } = await sw.ensurePipeline({ schema: testSchema(), deviceConfig: TEST_DEVICE_CONFIG });
    const other = await h.connect(5n);
    expect(other.schema).toBeUndefined();
    const cfg = await other.getPipeline('P4INFO_AND_COOKIE');
    expect(cfg.cookie).toBe(cookie);
    expect(cfg.p4info?.tables.map((t) => t.preamble?.name)).toEqual(['ingress.acl', 'ingress.filter']);
    const schema = await other.fetchSchema();
    expect(other.table('acl').info.id).toBe(schema.table('ingress.acl').id);
  });

  it('pipeline — a backup cannot push: PERMISSION_DENIED from the target', async () => {
    await h.connect(10n);
    const backup = await h.connect(5n);
    expect(backup.isPrimary).toBe(false);
    const err = (await backup.ensurePipeline({ schema: testSchema(), deviceConfig: TEST_DEVICE_CONFIG }).catch((e: unknown) => e)) as P4RuntimeError;
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect(err.code).toBe('PERMISSION_DENIED');
  });

  it('pipeline — name look-ups before any P4Info is bound say how to bind one', async () => {
    const sw = await h.connect(10n);
    expect(() => sw.table('acl')).toThrow(/ensurePipeline\(\), bindSchema\(\) or fetchSchema\(\)/);
  });

  it('capabilities — reports the target API version', async () => {
    const sw = await h.connect(10n);
    expect(await sw.capabilities()).toBe('1.3.0');
  });
});

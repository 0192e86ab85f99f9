/**
 * warmSlotWrites against a `full` sim: the pause's kind of Write (every word of many slots, one
 * DATAPLANE_ATOMIC request) is built and encoded, and nothing reaches the switch.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { p4 } from 'p4runtime-ts/proto';
import { warmSlotWrites } from '../../plugin/index.js';
import { startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

describe('warm slot writes', () => {
  let rig: EdgeRig;
  beforeAll(async () => {
    rig = await startEdgeRig({ profile: 'full', topology: false });
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('warm slot writes — encodes the Write of every word of the slots, rounds times, and sends nothing', async () => {
    const group = rig.plugin.group;
    const before = await rig.plugin.registerAccess.readSlots({ indices: [0, 1, 2, 3] });
    const encode = vi.spyOn(rig.sw, 'encodeWrite');
    const write = vi.spyOn(rig.sw, 'write');
    try {
      warmSlotWrites(rig.sw, group, 16, 3);
      expect(encode).toHaveBeenCalledTimes(3);
      expect(write).not.toHaveBeenCalled();
      const req = p4.v1.WriteRequest.decode(encode.mock.results[0]?.value as Uint8Array);
      expect(req.updates).toHaveLength(16 * group.words.length);
      expect(req.atomicity).toBe(p4.v1.WriteRequest.Atomicity.DATAPLANE_ATOMIC);
      expect(new Set(req.updates.map((u) => Number(u.entity?.registerEntry?.index?.index ?? -1)))).toEqual(new Set(Array.from({ length: 16 }, (_, i) => i)));
    } finally {
      encode.mockRestore();
      write.mockRestore();
    }
    expect(await rig.plugin.registerAccess.readSlots({ indices: [0, 1, 2, 3] })).toEqual(before);
  });
});

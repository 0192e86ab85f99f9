import { describe, expect, it } from 'vitest';
import { INBAND_OP, readMigrationContract, slotGroup } from '../contract/index.js';
import type { InbandSpec } from '../contract/index.js';
import { InbandResponderDouble } from '../testing/inband-responder.js';
import { ManualClock } from '../testing/manual-clock.js';
import { resizedStatefulEdge } from '../testing/stateful-edge-p4info.js';
import { InbandClient, parseInbandOptions } from './inband-client.js';

const contract = readMigrationContract(resizedStatefulEdge(192, 64));
const group = slotGroup(contract);
const spec = contract.inband as InbandSpec;

describe('in-band client — request ids', () => {
  it('refuses a req_id narrower than 16 bits instead of spinning for a free id', () => {
    const clock = new ManualClock();
    const double = new InbandResponderDouble(spec, group, () => clock.now());
    expect(() => new InbandClient({ ...spec, reqIdBits: 8 }, double, parseInbandOptions(), clock)).toThrow(
      expect.objectContaining({ code: 'CONTRACT_INVALID', message: expect.stringMatching(/req_id is 8 bits; the in-band client needs at least 16/) }),
    );
  });

  it('refuses a window whose held ids would not leave free ones in the id space', () => {
    const clock = new ManualClock();
    const double = new InbandResponderDouble(spec, group, () => clock.now());
    expect(() => new InbandClient({ ...spec, reqIdBits: 16 }, double, parseInbandOptions({ window: 8192, maxAttempts: 8 }), clock)).toThrow(
      expect.objectContaining({ code: 'BAD_OPTIONS', message: expect.stringMatching(/window 8192 × maxAttempts 8 = 65536 ids .* 16-bit req_id.*lower the window or maxAttempts/) }),
    );
  });

  it('wraps a 16-bit id space with every request answered once, no id held twice, duplicates told from strays', async () => {
    const clock = new ManualClock();
    const double = new InbandResponderDouble({ ...spec, reqIdBits: 16 }, group, () => clock.now());
    const client = new InbandClient({ ...spec, reqIdBits: 16 }, double, parseInbandOptions({ window: 64 }), clock);
    const count = 70_000;
    const answered = new Uint8Array(count);
    await client.runBatch(count, (i) => ({ op: INBAND_OP.READ_SLOT, index: i % group.slots }), (i, a) => {
      answered[i] = (answered[i] ?? 0) + 1;
      expect(a.index).toBe(i % group.slots);
    });
    expect(answered.every((n) => n === 1)).toBe(true);
    const ids = double.seen.map((r) => r.reqId);
    expect(Math.max(...ids)).toBeLessThan(65_536);
    expect(new Set(ids).size).toBe(65_536); // every id used: the sequence wrapped
    // Ids go out in sequence: one comes back only after a full wrap (less the ids held meanwhile).
    const lastUse = new Map<number, number>();
    ids.forEach((id, n) => {
      const prev = lastUse.get(id);
      if (prev !== undefined) expect(n - prev).toBeGreaterThanOrEqual(65_536 - 64);
      lastUse.set(id, n);
    });
    // A late second answer to the newest id is a duplicate; an id this client never sent is a stray.
    const newest = ids[ids.length - 1] ?? 0;
    double.stray(newest, INBAND_OP.READ_SLOT);
    double.stray((newest + 30_000) % 65_536, INBAND_OP.READ_SLOT);
    expect(client.stats()).toMatchObject({ requests: count, retries: 0, duplicateAnswers: 1, strayAnswers: 1, inFlight: 0 });
    client.close();
  });
});

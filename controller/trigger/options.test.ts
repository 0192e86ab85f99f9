import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from 'p4runtime-ts';
import { monotonicClock } from '../monotonic-time.js';
import { QmpClient } from '../qmp/index.js';
import { FakeQmpServer } from '../testing/fake-qmp-server.js';
import { QemuTriggerError } from './errors.js';
import { parseQemuTriggerOptions } from './options.js';
import type { MigrationPhaseHandler } from './phase-handler.js';

const handler: MigrationPhaseHandler = { onPrecopy: () => undefined, onPause: () => Promise.resolve({ decision: 'continue' }), onCompleted: () => undefined, onFailed: () => undefined };

let server: FakeQmpServer | undefined;
let client: QmpClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.stop();
  client = undefined;
  server = undefined;
});

async function connected(clock?: ManualClock): Promise<QmpClient> {
  server = await FakeQmpServer.start();
  const connecting = QmpClient.connect({ address: server.address, ...(clock ? { clock } : {}) });
  await server.nextPeer();
  client = await connecting;
  return client;
}

describe('QEMU trigger options — the clock', () => {
  it('qemu trigger options — without a clock the trigger reads the connected source client\'s, or the monotonic clock for an address', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const source = await connected(clock);
    expect(parseQemuTriggerOptions({ source, handler }).clock).toBe(clock);
    expect(parseQemuTriggerOptions({ source, handler, clock }).clock).toBe(clock);
    expect(parseQemuTriggerOptions({ source: 'unix:/run/src.qmp', handler }).clock).toBe(monotonicClock);
  });

  it('qemu trigger options — a clock other than the source client\'s is refused, naming the field and the fix', async () => {
    const source = await connected();
    const err = (() => {
      try {
        parseQemuTriggerOptions({ source, handler, clock: new ManualClock(0) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(QemuTriggerError);
    expect((err as QemuTriggerError).code).toBe('BAD_OPTIONS');
    expect((err as QemuTriggerError).message).toMatch(/QemuTriggerOptions\.clock: differs from the source QmpClient's clock; leave it out/);
  });
});

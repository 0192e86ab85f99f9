// The peer-to-peer pause pipelined (DeviceCapabilities.transferFreezes), against FAKE in-memory
// devices: each source's final Transfer freezes it, waits for its own pre-copy transfer to end,
// and sends the final batch — with one destination, together with its activation. The
// controller's view logs its own calls, so what it did not do in the pause is checked.
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DeviceApi, StateBatch } from '../../plugin/index.js';
import { engineTestFlow as flow } from '../testing/engine-site.js';
import { fakeAt as at, peerEngine } from '../testing/peer-engine-site.js';

/** Pre-copy running until `during` has run and the stop came. */
async function precopyWhile(engine: Awaited<ReturnType<typeof peerEngine>>['engine'], during: () => Promise<void> | void): Promise<void> {
  const stop$ = new Subject<void>();
  const running = engine.precopy(stop$);
  await new Promise((r) => setTimeout(r, 20));
  await during();
  stop$.next();
  await running;
}

describe('migration engine — the peer-to-peer pause in one call per source', () => {
  it('p2p pause — every source freezing in its transfer: the controller makes no Freeze, FinalDelta or Activate call; the destination activates with the final batch and holds the source state at the freeze', async () => {
    const { engine, dev, log, journal, machine } = await peerEngine('host-b', { fake: (n) => ({ transferFreezes: true, pipelines: n === 'dst' }) });
    await engine.prepare();
    // The journal says a destination may be activated before `frozen` is (for a recovery).
    expect(machine.state.activationDelegated).toBe(true);
    await precopyWhile(engine, () => {
      at(dev, 'src').change(flow(3, 4n));
      at(dev, 'src').push();
    });
    at(dev, 'src').change(flow(5, 7n)); // after pre-copy: only the final batch carries it
    const atFreeze = new Map(at(dev, 'src').active);
    const from = log.length;
    const sync = await engine.pauseSync();
    expect(sync.lost).toBeUndefined();
    expect(at(dev, 'src').frozen).toBe(true);
    expect(at(dev, 'dst').active).toEqual(atFreeze);
    expect(at(dev, 'dst').staged.size).toBe(0);
    expect(at(dev, 'dst').calls.filter((c) => c === 'importActivate')).toHaveLength(1);
    expect(at(dev, 'dst').calls).not.toContain('activate');
    const inPause = log.slice(from);
    for (const call of ['freeze src', 'freezeFinal src', 'finalDelta src', 'activate dst', 'importActivate dst']) expect(inPause).not.toContain(call);
    await engine.commit();
    const types = (await journal.load('m1')).map((e) => e.type);
    expect(types.slice(-5)).toEqual(['frozen', 'synced', 'activated', 'committed', 'source-cleaned']);
  });

  it('p2p pause — a destination that stopped answering in pre-copy (a batch to it hung): the source undoes its own freeze soon after the pause deadline (its grace), before the engine\'s rollback; PAUSE_DEADLINE_MISSED (walkthrough 22: the source frozen 30 s, the VM\'s traffic dropped there)', async () => {
    let hang = false;
    const hanging = (api: DeviceApi): DeviceApi => new Proxy(api, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        const f = (v as (...a: unknown[]) => unknown).bind(target);
        return prop === 'importStaged' || prop === 'importActivate' ? (...a: unknown[]) => (hang ? new Promise(() => undefined) : f(...a)) : f;
      },
    });
    const { engine, dev } = await peerEngine('host-b', {
      pauseDeadlineMs: 100,
      fake: (n) => ({ transferFreezes: true, pipelines: n === 'dst' }),
      peers: (d) => new Map([...d].map(([n, api]) => [n, n === 'dst' ? hanging(api) : api])),
    });
    await engine.prepare();
    await precopyWhile(engine, async () => {
      hang = true;
      at(dev, 'src').change(flow(3, 4n));
      at(dev, 'src').push(); // this round's batch never lands: the final transfer waits behind it
      await new Promise((r) => setTimeout(r, 30));
    });
    const sync = engine.pauseSync();
    await new Promise((r) => setTimeout(r, 20));
    expect(at(dev, 'src').frozen).toBe(true);
    // The engine waits up to 5 s for calls in flight before it rolls back; the source does not.
    await expect(sync).rejects.toMatchObject({ code: 'PAUSE_DEADLINE_MISSED' });
    expect(at(dev, 'src').frozen).toBe(false);
    expect(at(dev, 'src').calls).toContain('abort');
  }, 20_000);

  it('p2p pause — a source that predates it (no transferFreezes) is frozen and its destination activated by the controller, as before', async () => {
    const { engine, dev, log } = await peerEngine('host-b', { fake: (n) => ({ pipelines: n === 'dst' }) });
    await engine.prepare();
    await precopyWhile(engine, () => undefined);
    const atFreeze = new Map(at(dev, 'src').active);
    const from = log.length;
    await engine.pauseSync();
    expect(at(dev, 'dst').active).toEqual(atFreeze);
    expect(log.slice(from)).toEqual(expect.arrayContaining(['freeze src', 'activate dst']));
    expect(at(dev, 'dst').calls).not.toContain('importActivate');
  });

  it('p2p pause — a destination without ImportActivate gets the final batch staged, and the controller activates it once the proof is complete', async () => {
    const { engine, dev, log } = await peerEngine('host-b', { fake: () => ({ transferFreezes: true }) });
    await engine.prepare();
    await precopyWhile(engine, () => undefined);
    at(dev, 'src').change(flow(6, 9n));
    const atFreeze = new Map(at(dev, 'src').active);
    const from = log.length;
    await engine.pauseSync();
    expect(at(dev, 'dst').active).toEqual(atFreeze);
    expect(log.slice(from)).toContain('activate dst');
    expect(log.slice(from)).not.toContain('freeze src');
  });

  it.each([true, false])('p2p pause — a final batch that starts after where the proof stood (a change lost at the source) does not activate the destination: INCOMPLETE_STATE naming the gap, and the rollback leaves it clean and the source unfrozen (source freezing in its transfer: %s)', async (freezes) => {
    const { engine, dev } = await peerEngine('host-b', { fake: (n) => ({ transferFreezes: freezes, pipelines: n === 'dst' }) });
    await engine.prepare();
    await precopyWhile(engine, () => undefined);
    at(dev, 'src').change(flow(7, 5n));
    at(dev, 'src').lieOnFinal = true;
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'INCOMPLETE_STATE', message: expect.stringMatching(/sequence gaps .*src 21\.\.22/) as unknown });
    expect(at(dev, 'dst').calls).not.toContain('importActivate');
    expect(at(dev, 'dst').active.size).toBe(0);
    await engine.abort('INCOMPLETE_STATE', 'a change was lost');
    expect(at(dev, 'dst').staged.size).toBe(0);
    expect(at(dev, 'dst').active.size).toBe(0);
    expect(at(dev, 'src').frozen).toBe(false);
  });

  it('p2p pause — a pre-copy batch still in flight when the source freezes lands before the final batch, never over it: the destination ends with the newer record, nothing left staged', async () => {
    let release: () => void = () => undefined;
    let holding = false;
    const held = new Promise<void>((r) => (release = r));
    const { engine, dev } = await peerEngine('host-b', {
      fake: (n) => ({ transferFreezes: true, pipelines: n === 'dst' }),
      // The destination as the source reaches it: the import of one chosen pre-copy batch waits for the test.
      peers: (d) => new Map<string, DeviceApi>([...d].map(([n, x]) => [n, n !== 'dst' ? x : new Proxy(x, {
        get(target, prop, receiver) {
          const v: unknown = Reflect.get(target, prop, receiver);
          if (prop !== 'importStaged') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          return async (m: unknown, b: StateBatch) => {
            if (b.slots.some((s) => s.fields['state'] === 4n)) {
              holding = true;
              await held;
            }
            return target.importStaged(m as never, b);
          };
        },
      })])),
    });
    await engine.prepare();
    await precopyWhile(engine, async () => {
      at(dev, 'src').change(flow(3, 4n));
      at(dev, 'src').push();
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(holding).toBe(true);
    at(dev, 'src').change(flow(3, 5n)); // newer than the batch in flight: only the final batch has it
    const atFreeze = new Map(at(dev, 'src').active);
    const sync = engine.pauseSync();
    await new Promise((r) => setTimeout(r, 30));
    // Frozen and the final batch read, but not sent while the older batch is on its way.
    expect(at(dev, 'src').frozen).toBe(true);
    expect(at(dev, 'dst').calls).not.toContain('importActivate');
    release();
    await sync;
    expect(at(dev, 'dst').active).toEqual(atFreeze);
    expect(at(dev, 'dst').staged.size).toBe(0);
  });

  it('p2p pause — the destination activated with the final batch after the deadline: PAUSE_DEADLINE_MISSED once that call ended, and the rollback takes the activation back (nothing active at the destination) and unfreezes the source', async () => {
    const { engine, dev, machine } = await peerEngine('host-b', { fake: (n) => ({ transferFreezes: true, pipelines: n === 'dst' }), pauseDeadlineMs: 20 });
    await engine.prepare();
    await precopyWhile(engine, () => undefined);
    at(dev, 'dst').stall('importActivate');
    const sync = engine.pauseSync();
    sync.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 60));
    at(dev, 'dst').unstall('importActivate');
    await expect(sync).rejects.toMatchObject({ code: 'PAUSE_DEADLINE_MISSED', message: expect.stringMatching(/it finished \d+ ms after the pause began/) as unknown });
    // The activation landed before the pause gave up (settled first), so the rollback finds it to undo.
    expect(at(dev, 'dst').active.size).toBe(20);
    await engine.abort('PAUSE_DEADLINE_MISSED', 'too slow');
    expect(at(dev, 'dst').active.size).toBe(0);
    expect(at(dev, 'dst').staged.size).toBe(0);
    expect(at(dev, 'src').frozen).toBe(false);
    expect(at(dev, 'src').active.size).toBe(20);
    expect(machine.state.phase).toBe('ABORTED');
  });

  it('p2p pause — past the deadline with --on-deadline continue, the final batch arriving with the activation after it: activated, and nothing reported lost (only time)', async () => {
    const { engine, dev } = await peerEngine('host-b', { fake: (n) => ({ transferFreezes: true, pipelines: n === 'dst' }), pauseDeadlineMs: 20, onDeadline: 'continue' });
    await engine.prepare();
    await precopyWhile(engine, () => undefined);
    at(dev, 'src').change(flow(8, 6n));
    const atFreeze = new Map(at(dev, 'src').active);
    at(dev, 'dst').stall('importActivate');
    const sync = engine.pauseSync();
    await new Promise((r) => setTimeout(r, 60));
    at(dev, 'dst').unstall('importActivate');
    const r = await sync;
    expect(r.lost).toBeUndefined();
    expect(r.slots).toBe(1);
    expect(at(dev, 'dst').active).toEqual(atFreeze);
  });

  it('p2p pause — the final call failing after the deadline (a destination lost mid-call) is named in the PAUSE_DEADLINE_MISSED detail, not hidden by it', async () => {
    const { engine, dev } = await peerEngine('host-b', { fake: (n) => ({ transferFreezes: true, pipelines: n === 'dst' }), pauseDeadlineMs: 20 });
    await engine.prepare();
    await precopyWhile(engine, () => undefined);
    at(dev, 'dst').stall('importActivate');
    at(dev, 'dst').failNext('importActivate', 'DEVICE_UNREACHABLE');
    const sync = engine.pauseSync();
    sync.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 60));
    at(dev, 'dst').unstall('importActivate');
    await expect(sync).rejects.toMatchObject({ code: 'PAUSE_DEADLINE_MISSED', message: expect.stringMatching(/it failed \(.*importActivate failed \(DEVICE_UNREACHABLE\).*\) \d+ ms after the pause began/) as unknown });
    await engine.abort('PAUSE_DEADLINE_MISSED', 'too slow');
    expect(at(dev, 'dst').active.size).toBe(0);
    expect(at(dev, 'src').frozen).toBe(false);
  });
});

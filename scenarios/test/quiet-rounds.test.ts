/**
 * Pre-copy's convergence on the sim's `bmv2` profile (field walkthrough 6, m4): with the manual
 * trigger pre-copy ends at the first delta round that installs nothing. The first round after the
 * snapshot carries every change the VM's traffic made while the snapshot was read; on a loaded
 * BMv2 the source's pull of them took longer than the engine's round, the round looked empty, the
 * VM was frozen, and the pause read all of them (209 changes, 105 ms, past its deadline).
 *
 * Here the source pulls every 150 ms while the engine's round is 30 ms: every round ends before
 * the first pull has reported — the field's slow pull, by counting rather than by timing. Traffic
 * changes slots of the VM while the snapshot is read. A round now counts as converged only once
 * the source reported its latest pull (quiet pulls are reported too), so those changes move in a
 * pre-copy round and the pause has nothing left; in process, over the migration protocol and peer
 * to peer. A source that predates the reports is judged as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { MemoryJournal, MigrationEngine, MigrationMachine, inProcessTransfer, parseInventory, planMigration } from '../../controller/index.js';
import type { DeviceApi, DeviceCapabilities, MigrationRef, StateBatch } from '../../plugin/index.js';
import type { Observable } from 'rxjs';
import { DST_ID, SRC_ID, establish, returnSegment, site, startMigrationPair, vmSlots } from '../migration-fixture.js';
import type { MigrationPair } from '../migration-fixture.js';
import { UPLINK } from '../edge-rig.js';
import { devicesOver } from '../protocol-devices.js';
import type { Transport } from '../protocol-devices.js';

const FLOWS = Array.from({ length: 20 }, (_, i) => 46_000 + i);
/** Flows the VM's traffic changes while the snapshot is read. */
const TOUCHED = FLOWS.slice(0, 12);

/** The source's device API, the VM's traffic changing TOUCHED once the snapshot was read; `old`: as a peer without quiet reports. */
function touchingSource(pair: MigrationPair, old: boolean): DeviceApi {
  const api = pair.srcApi;
  return {
    capabilities: async (): Promise<DeviceCapabilities> => {
      const c = await api.capabilities();
      if (!old) return c;
      const { quietReports: _dropped, ...rest } = c;
      return rest;
    },
    prepare: (m) => api.prepare(m),
    exportSnapshot: async (m: MigrationRef): Promise<StateBatch> => {
      const b = await api.exportSnapshot(m);
      // After the snapshot's read, before any delta pull: the changes the first round must carry.
      for (const p of TOUCHED) expect(pair.src.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
      return b;
    },
    exportDeltas: (m, o): Observable<StateBatch> => api.exportDeltas(m, old ? {} : o),
    importStaged: (m, b) => api.importStaged(m, b),
    freeze: (m) => api.freeze(m),
    pauseStarted: (m) => api.pauseStarted(m),
    pauseDelta: (m, s) => api.pauseDelta(m, s),
    finalDelta: (m, s) => api.finalDelta(m, s),
    activate: (m, c) => api.activate(m, c),
    committed: (m) => api.committed?.(m) ?? Promise.resolve(),
    deleteAtSource: (m, g) => api.deleteAtSource(m, g),
    abort: (m) => api.abort(m),
  };
}

type Path = Transport | 'peer-to-peer';

/** vm-7 migrated with the manual trigger's policy (pre-copy ends at a quiet round); each round's slots, and the pause's. */
async function migrate(pair: MigrationPair, path: Path, old: boolean, migrationId: string): Promise<{ rounds: number[]; pauseSlots: number }> {
  const apis = { src: touchingSource(pair, old), dst: pair.dstApi as DeviceApi };
  const over = await devicesOver(path === 'protocol' ? 'protocol' : 'in-process', apis);
  try {
    const journal = new MemoryJournal();
    const plan = planMigration(parseInventory(site(pair.src.sim.address, pair.dst.sim.address), 'site.yaml'), 'vm-7', 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId, vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal, now: () => Date.now() });
    const engine = new MigrationEngine({
      plan, machine, devices: over.devices, pauseDeadlineMs: 30_000, graceMs: 0,
      precopy: { intervalMs: 30, policy: { maxRounds: 200, convergedAtSlots: 0 } },
      ...(path === 'peer-to-peer' ? { transfer: inProcessTransfer(over.devices) } : {}),
    });
    await engine.prepare();
    // Never stopped: pre-copy ends by the convergence policy alone, as with the manual trigger.
    await engine.precopy(new Subject<void>());
    const pause = await engine.pauseSync();
    expect(pause.lost).toBeUndefined();
    await engine.commit();
    const rounds = (await journal.load(migrationId)).flatMap((e) => (e.type === 'round' ? [e.slots] : []));
    return { rounds, pauseSlots: pause.slots };
  } finally {
    await over.close();
  }
}

describe('pre-copy convergence — a round ends quiet only on a pull the source reported (bmv2 profile)', () => {
  let pair: MigrationPair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });

  /** Both switches, the VM's FLOWS established, the source pulling every 150 ms. */
  async function start(): Promise<MigrationPair> {
    const p = (pair = await startMigrationPair('bmv2', { deltaIntervalMs: 150 }));
    for (const port of FLOWS) expect(establish(p.src.sim, port)).toBe(true);
    return p;
  }

  /** Every flow at the destination, none left at the source. */
  function moved(p: MigrationPair): void {
    expect(vmSlots(p.dst.sim, p.src.plugin.group, DST_ID).size).toBe(FLOWS.length);
    expect(vmSlots(p.src.sim, p.src.plugin.group, SRC_ID).size).toBe(0);
  }

  for (const path of ['in-process', 'protocol', 'peer-to-peer'] as const) {
    it(`pre-copy convergence — the changes made during the snapshot move in a pre-copy round, not in the pause (${path})`, async () => {
      const p = await start();
      const { rounds, pauseSlots } = await migrate(p, path, false, `m-quiet-${path}`);
      expect(rounds[0]).toBe(FLOWS.length);
      // Rounds that closed before the first pull reported did not end pre-copy; that pull's round carried the changes.
      expect(rounds.slice(1).reduce((a, b) => a + b, 0)).toBe(TOUCHED.length);
      expect(rounds.at(-1)).toBe(0);
      expect(pauseSlots).toBe(0);
      moved(p);
    }, 120_000);
  }

  it('pre-copy convergence — a source without quiet reports (an older plugin) is judged as before: by what arrived', async () => {
    const p = await start();
    const { rounds, pauseSlots } = await migrate(p, 'in-process', true, 'm-quiet-old');
    // Its first round closed before its pull reported: counted quiet, the changes left to the pause.
    expect(rounds).toEqual([FLOWS.length, 0]);
    expect(pauseSlots).toBe(TOUCHED.length);
    moved(p);
  }, 120_000);
});

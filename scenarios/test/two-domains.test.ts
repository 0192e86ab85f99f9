/**
 * Two domains on simulated switches: dc-a's controller migrates a VM to a host of dc-b, whose
 * controller plans and drives its own destination (in-process device APIs here; the daemons'
 * path is in two-domains-daemons.test.ts). Distinct CAs, cross-trust configured in each
 * inventory. A failure at dc-b rolls back both, its reason reported at dc-a; a failure at dc-a
 * rolls back both, its reason recorded at dc-b; a peer controller with a certificate from
 * another CA — or from the right CA under another identity — is refused before anything moves.
 */
import { join } from 'node:path';
import { createLogger } from 'p4runtime-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryJournal, joinPeerDomain, parseInventory, planToPeer, recoverMigrations } from '../../controller/index.js';
import type { InventoryFederation, InventoryPeer } from '../../controller/index.js';
import { DeviceApiFailure } from '../../plugin/index.js';
import type { DeviceApi } from '../../plugin/index.js';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { makeDomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK, eventually } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment } from '../migration-fixture.js';
import { startTwoDomains } from '../two-domain-rig.js';
import { readClaim } from '../../controller/journal/vm-claim.js';
import type { TwoDomains } from '../two-domain-rig.js';

/** `api` with `method` failing with `reason` while `when()` holds. */
function failing(api: DeviceApi, method: keyof DeviceApi, reason: DeviceApiFailure['reason'], when: () => boolean): DeviceApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop !== method) return f;
      return (...args: unknown[]) => (when() ? Promise.reject(new DeviceApiFailure(reason, `${String(prop)}: injected failure`)) : f(...args));
    },
  });
}

/** `api` with `method` answering only after `ms` while `when()` holds. */
function slow(api: DeviceApi, method: keyof DeviceApi, ms: number, when: () => boolean): DeviceApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop !== method) return f;
      return async (...args: unknown[]) => {
        const out = await f(...args);
        if (when()) await new Promise((r) => setTimeout(r, ms));
        return out;
      };
    },
  });
}

/** `api` whose capabilities claim `claim()` about its slots when set. */
function claiming(api: DeviceApi, claim: () => { total: number; free: number } | undefined): DeviceApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'capabilities') return f;
      return async () => {
        const caps = (await f()) as Awaited<ReturnType<DeviceApi['capabilities']>>;
        const c = claim();
        return c ? { ...caps, slots: c } : caps;
      };
    },
  });
}

const PORTS = Array.from({ length: 12 }, (_, i) => 33_000 + i);

describe.skipIf(!opensslAvailable())('two domains — failures and trust (needs openssl)', () => {
  let site: TwoDomains;
  const logs: Record<string, unknown>[] = [];
  const inject: { destinationActivate: boolean; sourceFreeze: boolean; slowActivate: boolean; abortFailures: number; stageFailure: boolean; claim: () => { total: number; free: number } | undefined } = { destinationActivate: false, sourceFreeze: false, slowActivate: false, abortFailures: 0, stageFailure: false, claim: () => undefined };
  beforeAll(async () => {
    site = await startTwoDomains({
      wrapDestination: (api) => failing(failing(failing(slow(claiming(api, () => inject.claim()), 'activate', 1_500, () => inject.slowActivate), 'activate', 'KEY_COLLISION', () => inject.destinationActivate), 'abort', 'DEVICE_UNREACHABLE', () => inject.abortFailures-- > 0), 'importStaged', 'DEVICE_UNREACHABLE', () => inject.stageFailure),
      wrapSource: (api) => failing(api, 'freeze', 'NOT_PRIMARY', () => inject.sourceFreeze),
      logger: createLogger({ level: 'info', sink: (r) => logs.push({ ...r }) }),
    });
    for (const p of PORTS) expect(establish(site.src.sim, p)).toBe(true);
    expect(await eventually(async () => (await site.srcApi.capabilities()).slots.free === site.src.plugin.group.slots - PORTS.length)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await site?.stop();
  });

  /** The source still holds and serves every flow; the destination holds nothing of the VM. */
  const untouched = (): void => {
    expect(countVmSlots(site.src.sim, site.src.plugin.group, SRC_ID)).toBe(PORTS.length);
    expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(0);
    for (const p of PORTS) expect(site.dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('drop');
  };

  it('two domains — a certificate from a CA dc-b does not trust is refused at the handshake: nothing proposed, nothing moved', async () => {
    const stranger = makeDomainFiles(site.pki, site.dir, 'dc-x');
    const before = site.server.calls().length;
    logs.length = 0;
    await expect(site.migrate('m-wrong-ca', { federationCert: stranger.controller })).rejects.toMatchObject({ code: 'PEER_REJECTED', message: expect.stringMatching(/peer domain dc-b: .*mutual TLS with 127\.0\.0\.1:\d+ refused/) as unknown });
    expect(site.server.calls().length).toBe(before);
    // dc-b says so too: who it refused, from where, and why.
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'federation: refused a caller in the TLS handshake', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown, hint: expect.stringMatching(/not signed by a CA this side trusts/) as unknown }));
    expect(site.server.migrations()).toEqual([]);
    untouched();
  });

  it('two domains — the right CA under another identity is refused by name: not a peer controller', async () => {
    const intruder = site.a.client('intruder');
    await expect(site.migrate('m-intruder', { federationCert: intruder })).rejects.toMatchObject({ code: 'PEER_REJECTED', message: expect.stringMatching(/'intruder' is not a peer controller of this domain \(peers: dc-a as controller-dc-a\)/) as unknown });
    expect(site.server.calls().at(-1)).toMatchObject({ method: 'Propose', peer: undefined, ok: false });
    untouched();
  });

  it('two domains — dc-a refuses a dc-b server whose certificate does not name the identity configured for dc-b, before any call (walkthrough 17 F4b: it committed): nothing proposed, nothing moved', async () => {
    const before = site.server.calls().length;
    await expect(site.migrate('m-wrong-peer-id', { peerIdentity: 'controller-dc-x' })).rejects.toMatchObject({ code: 'PEER_REJECTED', message: expect.stringMatching(/peer domain dc-b: refused the server at 127\.0\.0\.1:\d+: its certificate names '.*controller-dc-b.*', not 'controller-dc-x' \(peers\.dc-b\.identity\)/) as unknown });
    expect(site.server.calls().length).toBe(before);
    expect(site.server.migrations()).toEqual([]);
    untouched();
  });

  it('two domains — a ticket signed with a key dc-b does not know for dc-a is refused at Agree: dc-b logs a refusal, not a failed rollback, and calls no device to undo what it never staged', async () => {
    const stranger = makeDomainFiles(site.pki, site.dir, 'dc-y');
    const aborts: unknown[] = [];
    const abort = site.dstApi.abort.bind(site.dstApi);
    site.dstApi.abort = (ref) => {
      aborts.push(ref);
      return abort(ref);
    };
    logs.length = 0;
    try {
      const out = await site.migrate('m-wrong-key', { signingKey: stranger.signingKey }).catch((e: unknown) => e);
      expect(String((out as { run?: { aborted?: { detail?: string } } }).run?.aborted?.detail ?? (out as Error).message)).toMatch(/the ticket of dc-a is refused/);
      await eventually(async () => site.server.migrations().length === 0);
      const mine = logs.filter((r) => r['migration'] === 'm-wrong-key' || r['migrationId'] === 'm-wrong-key');
      expect(mine.map((r) => r['msg'])).not.toContain('rollback failed at a device');
      expect(mine.filter((r) => r['level'] === 'error')).toEqual([]);
      expect(mine).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'cross-domain migration refused: nothing was staged here', reason: 'PEER_REJECTED', detail: expect.stringMatching(/the ticket of dc-a is refused/) as unknown }));
      expect(aborts).toEqual([]);
      expect(await site.journalB.load('m-wrong-key')).toEqual([]);
      untouched();
    } finally {
      site.dstApi.abort = abort;
    }
  }, 60_000);

  /** The options of every abort dc-b's destination gets while `fn` runs. */
  async function abortOptionsAtB(fn: () => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const abort = site.dstApi.abort.bind(site.dstApi);
    site.dstApi.abort = (ref, o) => {
      seen.push(o);
      return abort(ref, o);
    };
    try {
      await fn();
    } finally {
      site.dstApi.abort = abort;
    }
    return seen;
  }

  it('two domains — a failure at dc-b (activation inside the pause) rolls back both: dc-a reports dc-b\'s reason, dc-b recorded it; dc-b\'s undo says its destination may be active', async () => {
    inject.destinationActivate = true;
    try {
      expect(await abortOptionsAtB(async () => {
        const out = await site.migrate('m-fail-b');
        expect(out.run.aborted).toMatchObject({ reason: 'KEY_COLLISION', detail: expect.stringMatching(/peer domain dc-b: Commit: .*activate at edge-b: .*injected failure/) as unknown });
        expect(out.crossDomain?.callsInPause).toEqual(['Commit']);
        const b = await site.journalB.load('m-fail-b');
        expect(b.map((e) => e.type)).toEqual(expect.arrayContaining(['planned', 'prepared', 'round', 'frozen', 'synced', 'abort', 'rolled-back']));
        expect(b.find((e) => e.type === 'abort')).toMatchObject({ reason: 'KEY_COLLISION' });
        expect(b.some((e) => e.type === 'round' && e.slots === PORTS.length)).toBe(true);
        expect((await site.journalA.load('m-fail-b')).map((e) => e.type).slice(-2)).toEqual(['abort', 'rolled-back']);
        untouched();
        // Unfrozen at the source: the flows still pass there.
        for (const p of PORTS) expect(site.src.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
      })).toEqual([{ mayBeActive: true }]);
    } finally {
      inject.destinationActivate = false;
    }
  }, 60_000);

  it('two domains — dc-b\'s journal refuses its abort record (its disk full) when its activation fails in the pause: its destination is undone all the same, the error logged, the journal left where a restart rolls back again', async () => {
    inject.destinationActivate = true;
    const append = site.journalB.append.bind(site.journalB);
    site.journalB.append = (id, e) => (id === 'm-fail-b-disk' && e.type === 'abort' ? Promise.reject(new Error('ENOSPC: no space left on device, write')) : append(id, e));
    logs.length = 0;
    try {
      const out = await site.migrate('m-fail-b-disk');
      expect(out.run.aborted).toMatchObject({ reason: 'KEY_COLLISION' });
      untouched();
      expect((await site.journalB.load('m-fail-b-disk')).map((e) => e.type)).not.toContain('rolled-back');
      expect(logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'the journal refused the abort record: rolling back the destinations all the same', error: expect.stringMatching(/ENOSPC/) as unknown }));
    } finally {
      site.journalB.append = append;
      inject.destinationActivate = false;
    }
  }, 60_000);

  it('two domains — dc-b\'s Abort fails once the pause began (its destination does not answer twice) and is retried by dc-a like a source: both roll back without carryover recover (walkthrough 17: left to recover, both domains active 5 s)', async () => {
    inject.slowActivate = true;
    inject.abortFailures = 4; // dc-b tries its device twice per Abort, dc-a sends Abort twice before it retries
    try {
      // dc-b's activation answers after dc-a's deadline: dc-a rolls back, and its first Abort fails.
      const out = await site.migrate('m-abort-retried', { pauseDeadlineMs: 300 });
      expect(out.run.aborted).toMatchObject({ reason: 'PAUSE_DEADLINE_MISSED' });
      expect(inject.abortFailures).toBeLessThan(0); // both injected failures were used
      expect(out.run.aborted?.undoFailed).toBeUndefined();
      expect((await site.journalA.load('m-abort-retried')).map((e) => e.type).slice(-2)).toEqual(['abort', 'rolled-back']);
      expect((await site.journalB.load('m-abort-retried')).map((e) => e.type).slice(-2)).toEqual(['abort', 'rolled-back']);
      untouched();
      for (const p of PORTS) expect(site.src.sim.dataplane.inject(UPLINK, returnSegment(p, 3)).kind).toBe('forward');
    } finally {
      inject.slowActivate = false;
      inject.abortFailures = 0;
    }
  }, 60_000);

  it('two domains — a stage that fails at dc-b, whose own rollback then fails too: dc-a reports the stage\'s cause first, the incomplete rollback after it (walkthrough 17 F10: only the rollback crossed)', async () => {
    inject.stageFailure = true;
    inject.abortFailures = 2; // dc-b tries its device twice
    try {
      const out = await site.migrate('m-stage-cause');
      expect(out.run.aborted).toMatchObject({ reason: 'DEVICE_UNREACHABLE', detail: expect.stringMatching(/peer domain dc-b: Stage: .*importStaged: injected failure.*; and rollback incomplete at edge-b/) as unknown });
    } finally {
      inject.stageFailure = false;
      inject.abortFailures = 0;
    }
    // dc-a's own rollback reached dc-b once its device answered again.
    untouched();
  }, 60_000);

  it('two domains — a failure at dc-a (its source refuses the freeze) rolls back both: dc-b undoes what it staged (nothing can be active: no mayBeActive) and records dc-a\'s reason', async () => {
    inject.sourceFreeze = true;
    try {
      expect(await abortOptionsAtB(async () => {
        const out = await site.migrate('m-fail-a');
        expect(out.run.aborted).toMatchObject({ reason: 'NOT_PRIMARY', detail: expect.stringMatching(/freeze at edge-a: .*injected failure/) as unknown });
        expect(out.crossDomain?.callsInPause).toEqual([]);
        const b = await site.journalB.load('m-fail-a');
        expect(b.some((e) => e.type === 'round' && e.slots === PORTS.length)).toBe(true);
        expect(b.find((e) => e.type === 'abort')).toMatchObject({ reason: 'NOT_PRIMARY', detail: expect.stringMatching(/^dc-a: freeze at edge-a: .*injected failure/) as unknown });
        expect(b.at(-1)?.type).toBe('rolled-back');
        expect(b.map((e) => e.type)).not.toContain('activated');
        untouched();
        for (const p of PORTS) expect(site.src.sim.dataplane.inject(UPLINK, returnSegment(p, 1)).kind).toBe('forward');
      })).toEqual([undefined]);
    } finally {
      inject.sourceFreeze = false;
    }
  }, 60_000);

  it('two domains — a commit answered after the pause deadline rolls back both, dc-b\'s activation included', async () => {
    inject.slowActivate = true;
    try {
      const out = await site.migrate('m-late', { pauseDeadlineMs: 300 });
      expect(out.run.aborted).toMatchObject({ reason: 'PAUSE_DEADLINE_MISSED', detail: expect.stringMatching(/peer domain dc-b: Commit/) as unknown });
      const b = (await site.journalB.load('m-late')).map((e) => e.type);
      // dc-b finished activating after dc-a gave up; dc-a's abort then undid the activation.
      expect(b.slice(-3)).toEqual(['activated', 'abort', 'rolled-back']);
      untouched();
    } finally {
      inject.slowActivate = false;
    }
  }, 60_000);

  it('two domains — dc-b does not begin activating once what was left of dc-a\'s deadline ran out (its own steps before the activation slow): rolled back there unactivated (walkthrough 19: both domains active ≈100 ms)', async () => {
    const append = site.journalB.append.bind(site.journalB);
    site.journalB.append = async (id, e) => {
      if (id === 'm-budget' && e.type === 'synced') await new Promise((r) => setTimeout(r, 800));
      return append(id, e);
    };
    let activations = 0;
    const activate = site.dstApi.activate.bind(site.dstApi);
    site.dstApi.activate = (ref) => {
      activations++;
      return activate(ref);
    };
    try {
      const out = await site.migrate('m-budget', { pauseDeadlineMs: 300 });
      expect(out.run.aborted).toMatchObject({ reason: 'PAUSE_DEADLINE_MISSED' });
      expect(await eventually(async () => (await site.journalB.load('m-budget')).at(-1)?.type === 'rolled-back')).toBe(true);
      const b = await site.journalB.load('m-budget');
      expect(b.map((e) => e.type)).not.toContain('activated');
      expect(b.find((e) => e.type === 'abort')).toMatchObject({ reason: 'PAUSE_DEADLINE_MISSED', detail: expect.stringMatching(/the commit arrived with \d+ ms of dc-a's pause deadline left, and \d+ ms passed before dc-b could activate .*: not activated, rolled back here/) as unknown });
      expect(activations).toBe(0);
      untouched();
    } finally {
      site.journalB.append = append;
      site.dstApi.activate = activate;
    }
  }, 60_000);

  it('two domains — a destination in dc-b claiming more free slots than it has is refused at the proposal: nothing prepared in either domain', async () => {
    inject.claim = () => ({ total: 327_680, free: 400_000 });
    try {
      await expect(site.migrate('m-liar')).rejects.toMatchObject({ code: 'PEER_REJECTED', message: expect.stringMatching(/peer domain dc-b: Propose: .*edge-b claims 400000 free slots of 327680/) as unknown });
      expect(await site.journalB.load('m-liar')).toEqual([]);
      expect(await site.journalA.load('m-liar')).toEqual([]);
      untouched();
    } finally {
      inject.claim = () => undefined;
    }
  });

  it('two domains — a dc-b without room for the snapshot is refused by dc-a before anything is staged: CAPACITY_EXCEEDED naming dc-b', async () => {
    inject.claim = () => ({ total: 327_680, free: PORTS.length - 1 });
    try {
      const out = await site.migrate('m-full');
      expect(out.run.aborted).toMatchObject({ reason: 'CAPACITY_EXCEEDED', detail: "dc-b has 11 free slots; the VM's snapshot needs 12 there; nothing was staged" });
      expect((await site.journalB.load('m-full')).map((e) => e.type)).toEqual(['planned', 'prepared', 'abort', 'rolled-back']);
      untouched();
    } finally {
      inject.claim = () => undefined;
    }
  }, 60_000);

  it('two domains — room taken at dc-b between the proposal and the snapshot: dc-b refuses to stage it, CAPACITY_EXCEEDED reaches dc-a, nothing staged', async () => {
    let asked = 0;
    // Honest at the proposal; by the time the snapshot arrives, the slots are gone.
    inject.claim = () => (asked++ === 0 ? undefined : { total: 327_680, free: 3 });
    try {
      const out = await site.migrate('m-taken');
      expect(out.run.aborted).toMatchObject({ reason: 'CAPACITY_EXCEEDED', detail: expect.stringMatching(/peer domain dc-b: Stage: .*edge-b has 3 free slots; the VM's snapshot needs 12 there; nothing was staged/) as unknown });
      const b = await site.journalB.load('m-taken');
      expect(b.map((e) => e.type)).toEqual(['planned', 'prepared', 'abort', 'rolled-back']);
      expect(b.find((e) => e.type === 'abort')).toMatchObject({ reason: 'CAPACITY_EXCEEDED' });
      // dc-a's abort reached a dc-b that had already rolled back: answered, so dc-a's rollback is complete too.
      expect((await site.journalA.load('m-taken')).map((e) => e.type).slice(-2)).toEqual(['abort', 'rolled-back']);
      expect(site.server.migrations()).toEqual([]);
      untouched();
    } finally {
      inject.claim = () => undefined;
    }
  }, 60_000);

  it('two domains — the migration commits across the boundary: one call inside the pause, dc-b records the commit, the flows pass at dc-b only', async () => {
    const out = await site.migrate('m-commit');
    expect(out.run.aborted).toBeUndefined();
    expect(out.crossDomain).toMatchObject({ peer: 'dc-b', destinations: ['edge-b'], callsInPause: ['Commit'] });
    // What dc-b's destination holds of the VM is asked before Prepare (a VM already there is refused).
    expect(out.crossDomain?.calls.slice(0, 4)).toEqual(['Propose', 'Agree', 'Footprint', 'Prepare']);
    expect(out.crossDomain?.calls.at(-1)).toBe('Finish');
    expect((await site.journalB.load('m-commit')).map((e) => e.type).slice(-3)).toEqual(['activated', 'committed', 'source-cleaned']);
    expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
    expect(countVmSlots(site.src.sim, site.src.plugin.group, SRC_ID)).toBe(0);
    for (const p of PORTS) expect(site.dst.sim.dataplane.inject(UPLINK, returnSegment(p, 2)).kind).toBe('forward');
    expect(site.server.migrations()).toEqual([]);
  }, 60_000);
});

describe.skipIf(!opensslAvailable())('two domains — a source domain that goes silent (needs openssl)', () => {
  let site: TwoDomains;
  beforeAll(async () => {
    site = await startTwoDomains({ idleMs: 300 });
  }, 120_000);
  afterAll(async () => {
    await site?.stop();
  });

  it('two domains — dc-a agrees and prepares, then stops driving: dc-b rolls its destination back on its own and records why', async () => {
    const inv = parseInventory(site.inventoryA(), 'dc-a.yaml');
    const joined = await joinPeerDomain({
      plan: planToPeer(inv, 'vm-7', 'host-a', 'dc-b', 'host-b'), migrationId: 'm-silent', domain: 'dc-a', signingKey: site.a.signingKey,
      federation: inv.federation as InventoryFederation, peer: inv.peers.get('dc-b') as InventoryPeer, toHost: 'host-b', journal: new MemoryJournal(),
      connect: async (ds) => ({ apis: new Map(ds.map((d) => [d.name, site.srcApi])), stop: async () => undefined }), pauseDeadlineMs: 1_000,
    });
    await (joined.devices.get('dc-b') as DeviceApi).prepare({ migrationId: 'm-silent', vm: '10.0.0.5' });
    expect(site.server.migrations()).toEqual([{ migrationId: 'm-silent', peer: 'dc-a', phase: 'PREPARED' }]);
    // dc-b's server holds the VM beside its journal while it drives the migration: carryover
    // recover there refuses it (walkthrough 17: one beside the live server broke the journal).
    expect(readClaim(join(site.dir, 'carryover-journal'), 'vm-7')).toMatchObject({ by: 'federation m-silent', pid: process.pid });
    expect(await eventually(async () => (await site.journalB.load('m-silent')).at(-1)?.type === 'rolled-back', 10_000)).toBe(true);
    expect(await eventually(() => readClaim(join(site.dir, 'carryover-journal'), 'vm-7') === undefined)).toBe(true);
    expect((await site.journalB.load('m-silent')).find((e) => e.type === 'abort')).toMatchObject({ reason: 'DEVICE_UNREACHABLE', detail: expect.stringMatching(/no call from dc-a for 300 ms before activation/) as unknown });
    expect(site.server.migrations()).toEqual([]);
    await joined.stop();
  }, 60_000);
});

/** Both domains, the VM's flows open at dc-a's source and indexed there. */
async function twoDomainsWithFlows(): Promise<TwoDomains> {
  const site = await startTwoDomains({});
  for (const p of PORTS) expect(establish(site.src.sim, p)).toBe(true);
  expect(await eventually(async () => (await site.srcApi.capabilities()).slots.free === site.src.plugin.group.slots - PORTS.length)).toBe(true);
  return site;
}

describe.skipIf(!opensslAvailable())('two domains — the final batch and the journal (needs openssl)', () => {
  it('two domains — a final batch handed over before dc-a\'s journal says FROZEN still travels with the Commit, not on a Stage of its own inside the pause (walkthrough 17: the default deadline never committed on BMv2)', async () => {
    const site = await twoDomainsWithFlows();
    try {
      const append = site.journalA.append.bind(site.journalA);
      // The `frozen` record is written while the final batches are handed over: make it the slower.
      site.journalA.append = async (id, e) => {
        if (e.type === 'frozen') await new Promise((r) => setTimeout(r, 150));
        return append(id, e);
      };
      // The VM's traffic runs until its pause, so the final delta has changes to carry.
      let n = 1;
      const traffic = setInterval(() => {
        for (const p of PORTS) site.src.sim.dataplane.inject(UPLINK, returnSegment(p, n));
        n++;
      }, 5);
      const out = await site.migrate('m-late-frozen', { pauseDeadlineMs: 5_000 }).finally(() => clearInterval(traffic));
      expect(out.run.aborted).toBeUndefined();
      expect(out.run.sync?.slots).toBeGreaterThan(0);
      expect(out.crossDomain?.callsInPause).toEqual(['Commit']);
      // What the Commit brought dc-b (its `synced` record): the final batch, not an empty list
      // behind a Stage of its own.
      const synced = (await site.journalB.load('m-late-frozen')).find((e) => e.type === 'synced');
      expect(synced).toMatchObject({ slots: expect.any(Number) as unknown });
      expect((synced as { slots: number }).slots).toBeGreaterThanOrEqual(out.run.sync?.slots ?? Infinity);
      expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
    } finally {
      await site.stop();
    }
  }, 60_000);
});

describe.skipIf(!opensslAvailable())('two domains — a Finish lost after the commit (needs openssl)', () => {
  it('two domains — dc-b does not record the commit (Finish fails): dc-a ends NOT FINISHED naming recover, its journal left COMMITTED with the cleanup owed; recover at dc-a repeats Finish and both journals close (walkthrough 17 F3: dc-a said COMMITTED and dc-b was left open)', async () => {
    const site = await twoDomainsWithFlows();
    try {
      let refusing = true;
      const append = site.journalB.append.bind(site.journalB);
      site.journalB.append = (id, e) => (refusing && e.type === 'committed' ? Promise.reject(new Error('ENOSPC: no space left on device, write')) : append(id, e));
      const out = await site.migrate('m-finish-lost');
      expect(out.run).toMatchObject({ aborted: undefined, unfinished: { vmAt: 'destination', detail: expect.stringMatching(/the VM runs at dc-b and this domain's sources are cleaned, but dc-b did not record the commit .*run carryover recover here once dc-b's federation answers/) as unknown } });
      // The sources' delete is journalled done; only Finish is owed (a repeated delete would be refused: walkthrough 19).
      expect((await site.journalA.load('m-finish-lost')).map((e) => e.type).slice(-2)).toEqual(['committed', 'cleaned-at']);
      expect((await site.journalB.load('m-finish-lost')).at(-1)?.type).toBe('activated');
      expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
      refusing = false;
      const inv = parseInventory(site.inventoryA(), join(site.dir, 'dc-a.yaml'));
      const [r] = await recoverMigrations({ inventory: { ...inv, journal: site.dir }, journal: site.journalA, connect: site.connectA, defaultP4info: P4INFO_PATH, progress: () => undefined });
      expect(r).toMatchObject({ migrationId: 'm-finish-lost', outcome: 'sources-cleaned' });
      expect((await site.journalA.load('m-finish-lost')).at(-1)?.type).toBe('source-cleaned');
      expect((await site.journalB.load('m-finish-lost')).map((e) => e.type).slice(-2)).toEqual(['committed', 'source-cleaned']);
      expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
      expect(countVmSlots(site.src.sim, site.src.plugin.group, SRC_ID)).toBe(0);
    } finally {
      await site.stop();
    }
  }, 120_000);
});

describe.skipIf(!opensslAvailable())('two domains — the deadline policy continue (needs openssl)', () => {
  it('two domains — policy continue: a commit answered after the pause deadline still activates dc-b and commits (the VM may be on its way there), where abort would roll both back', async () => {
    let slowActivation = false;
    const site = await startTwoDomains({ wrapDestination: (api) => slow(api, 'activate', 1_500, () => slowActivation) });
    try {
      for (const p of PORTS) expect(establish(site.src.sim, p)).toBe(true);
      expect(await eventually(async () => (await site.srcApi.capabilities()).slots.free === site.src.plugin.group.slots - PORTS.length)).toBe(true);
      slowActivation = true;
      const out = await site.migrate('m-late-continue', { pauseDeadlineMs: 300, onDeadline: 'continue' });
      expect(out.run.aborted).toBeUndefined();
      expect(out.run.committed?.deleted).toBe(PORTS.length);
      expect((await site.journalB.load('m-late-continue')).map((e) => e.type).slice(-3)).toEqual(['activated', 'committed', 'source-cleaned']);
      expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
      for (const p of PORTS) expect(site.dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
    } finally {
      await site.stop();
    }
  }, 120_000);
});

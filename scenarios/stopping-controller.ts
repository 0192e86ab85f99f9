/**
 * A controller that stops mid-migration without a word to anyone (killed, its host down), for
 * the recovery tests: it migrates vm-7 from host-a to host-b of an inventory (edge-a → edge-b),
 * journals in the inventory's directory, and ends at the phase asked, its device connections
 * closed, nothing aborted or deleted. Not product code.
 */
import { Subject } from 'rxjs';
import { FileJournal, MigrationEngine, MigrationMachine, connectPlanDevices, inProcessTransfer, joinPeerDomain, loadInventory, planMigration, planToPeer } from '../controller/index.js';
import type { MigrationJournal } from '../controller/index.js';
import type { DeviceApi } from '../plugin/index.js';

/**
 * Where the controller stops: after pre-copy, with the source frozen, activated (journalled or not),
 * or committed; SYNCED_STAGED: the final batch installed and `synced` journalled, the activation
 * never sent (the journal then says SYNCED); PEER_PAUSED: peer to peer, the source's plugin froze,
 * sent the final batch and activated the destination (the pause in one call) and the controller
 * died before journalling `frozen` (the journal then says PRECOPY).
 */
export type StopAt = 'PRECOPY' | 'FROZEN' | 'SYNCED' | 'SYNCED_STAGED' | 'ACTIVATED' | 'COMMITTED' | 'PEER_PAUSED';

/**
 * Runs migration `id` of vm-7 over `config`'s devices and stops at `at` (SYNCED: the activation
 * reached the destination, the process died before `activated` was durable); throws unless the
 * journal then says `at`.
 */
export async function controllerStoppingAt(config: string, defaultP4info: string, at: StopAt, id: string): Promise<void> {
  const inv = loadInventory(config);
  const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
  const scope = { sources: ['edge-a'], destinations: ['edge-b'] };
  const connected = await connectPlanDevices([...plan.sources, ...plan.destinations], { defaultP4info, domain: inv.domain, controller: inv.controller, scope });
  const file = new FileJournal(inv.journal);
  const journal: MigrationJournal = at === 'SYNCED'
    ? { append: (m, e) => (e.type === 'activated' ? Promise.reject(new Error('the controller died')) : file.append(m, e)), load: (m) => file.load(m), list: () => file.list() }
    : file;
  // SYNCED_STAGED: the process dies as the activation would go out (the pause one call per step, so the final import is a call of its own).
  const devices = at !== 'SYNCED_STAGED' ? connected.apis : new Map([...connected.apis].map(([n, api]) => [n, n !== 'edge-b' ? api : diesAtActivation(api)]));
  try {
    const machine = await MigrationMachine.plan({ migrationId: id, vm: 'vm-7', ...scope }, { journal, now: () => Date.now() });
    const engine = new MigrationEngine({ plan, machine, devices, pauseDeadlineMs: 60_000, precopy: { intervalMs: 20 }, graceMs: 0, ...(at === 'SYNCED_STAGED' ? { pipelinedPause: false } : {}), ...(at === 'PEER_PAUSED' ? { transfer: inProcessTransfer(devices) } : {}) });
    await engine.prepare();
    const paused$ = new Subject<void>();
    const rounds = engine.precopy(paused$);
    setTimeout(() => paused$.next(), 50);
    await rounds;
    if (at === 'PEER_PAUSED') {
      // What the source's plugin does in a one-call pause, none of it journalled by the controller.
      const [a, b] = [devices.get('edge-a') as DeviceApi, devices.get('edge-b') as DeviceApi];
      const ref = { migrationId: id, vm: '10.0.0.5' };
      await a.freeze(ref);
      await b.importStaged(ref, await a.finalDelta(ref, 0n));
      await b.activate(ref);
    }
    if (at === 'FROZEN') {
      await connected.apis.get('edge-a')?.freeze({ migrationId: id, vm: '10.0.0.5' });
      await machine.record({ type: 'frozen' });
    }
    if (at === 'ACTIVATED' || at === 'COMMITTED') await engine.pauseSync();
    if (at === 'SYNCED') {
      const died = await engine.pauseSync().then(() => false, (e: unknown) => /the controller died/.test(String(e)));
      if (!died) throw new Error('SYNCED: expected the pause to fail on the journal write of `activated`');
    }
    if (at === 'SYNCED_STAGED') {
      const died = await engine.pauseSync().then(() => false, (e: unknown) => /the controller died/.test(String(e)));
      if (!died) throw new Error('SYNCED_STAGED: expected the pause to fail at the activation');
    }
    if (at === 'COMMITTED') await machine.record({ type: 'committed' });
    if (machine.state.phase !== (at === 'SYNCED_STAGED' ? 'SYNCED' : at === 'PEER_PAUSED' ? 'PRECOPY' : at)) throw new Error(`the stopping controller ended in ${machine.state.phase}, not ${at}`);
  } finally {
    // The process ends here: its plugins' sessions close, nothing is aborted or deleted.
    await connected.stop();
    await file.close();
  }
}

/** `api` whose activation never leaves this process: the controller dies just before it. */
function diesAtActivation(api: DeviceApi): DeviceApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      if (prop === 'activate') return () => Promise.reject(new Error('the controller died'));
      if (prop === 'importActivate') return undefined;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * A controller of domain `config`'s inventory that moves vm-7 from host-a to host `toHost` of peer
 * domain `peer` (as `carryover migrate --to-domain` does: proposed, agreed, the ticket kept beside
 * the journal) and stops after pre-copy without a word to anyone; throws unless the journal then
 * says PRECOPY.
 */
export async function crossDomainControllerStoppingAfterPrecopy(config: string, defaultP4info: string, peer: string, toHost: string, id: string): Promise<void> {
  const inv = loadInventory(config);
  const peerEntry = inv.peers.get(peer);
  if (!inv.controller || !inv.domain || !inv.federation || !peerEntry) throw new Error(`${config}: needs domain, controller, federation and peers.${peer}`);
  const controller = inv.controller;
  const plan = planToPeer(inv, 'vm-7', 'host-a', peer, toHost);
  const file = new FileJournal(inv.journal);
  const joined = await joinPeerDomain({
    plan, migrationId: id, domain: inv.domain, signingKey: controller.signingKey, federation: inv.federation, peer: peerEntry, toHost, journal: file, pauseDeadlineMs: 60_000,
    ticketDir: inv.journal,
    connect: (ds, c) => connectPlanDevices(ds, { defaultP4info, domain: inv.domain as string, controller, scope: c.scope, ...(c.tickets ? { tickets: c.tickets } : {}) }),
  });
  try {
    const engine = new MigrationEngine({ plan, machine: joined.machine, devices: joined.devices, pauseDeadlineMs: 60_000, precopy: { intervalMs: 20 }, graceMs: 0 });
    await engine.prepare();
    const paused$ = new Subject<void>();
    const rounds = engine.precopy(paused$);
    setTimeout(() => paused$.next(), 50);
    await rounds;
    if (joined.machine.state.phase !== 'PRECOPY') throw new Error(`the stopping controller ended in ${joined.machine.state.phase}, not PRECOPY`);
  } finally {
    // Its connections close with the process: nothing aborted, nothing told to the peer.
    await joined.stop();
    await file.close();
  }
}

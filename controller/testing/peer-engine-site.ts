/**
 * The engine with peer-to-peer transfer over FAKE devices (fake-device-api.ts), for the engine's
 * unit tests: the controller's view of every device logs its calls, and a destination's view
 * refuses imports (state passing through the controller fails the test); the sources' transfers
 * reach the fakes themselves.
 */
import type { DeviceApi } from '../../plugin/index.js';
import { inProcessTransfer } from '../engine/peer-rounds.js';
import { MigrationEngine } from '../engine/migration-engine.js';
import { MemoryJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { planMigration } from '../plan/plan-migration.js';
import { engineTestFlow, engineTestInventory } from './engine-site.js';
import { FakeDeviceApi } from './fake-device-api.js';

/** The controller's view of a device, its calls logged; a destination's imports refused (those go peer to peer). */
export function controllerView(api: DeviceApi, log: string[], destination: boolean): DeviceApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      if (destination && prop === 'importStaged') return () => Promise.reject(new Error('the controller imported state: it must go peer to peer'));
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        log.push(`${String(prop)} ${(target as FakeDeviceApi).name}`);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** How the fakes are made and reached. */
export interface PeerEngineSetup {
  readonly intervalMs?: number;
  /** The device APIs the transfers reach (default: the fakes themselves). */
  readonly peers?: (dev: Map<string, FakeDeviceApi>) => Map<string, DeviceApi>;
  /** Options of each fake (e.g. transferFreezes, pipelines). */
  readonly fake?: (name: string) => ConstructorParameters<typeof FakeDeviceApi>[1];
  /** The pause deadline (default 5 s) and its policy (default abort). */
  readonly pauseDeadlineMs?: number;
  readonly onDeadline?: 'abort' | 'continue';
}

/** vm-7 planned from host-a to `to`, 20 flows at `src`, an engine whose sources transfer peer to peer. */
export async function peerEngine(to = 'host-b', o: PeerEngineSetup = {}) {
  const plan = planMigration(engineTestInventory(), 'vm-7', 'host-a', to);
  const journal = new MemoryJournal();
  const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: plan.sources.map((d) => d.name), destinations: plan.destinations.map((d) => d.name) }, { journal, now: () => Date.now() });
  const dev = new Map(['src', 'dst', 'c1', 'c2'].map((n) => [n, new FakeDeviceApi(n, o.fake?.(n) ?? {})]));
  for (let i = 0; i < 20; i++) dev.get('src')?.change(engineTestFlow(i));
  const log: string[] = [];
  const view = new Map<string, DeviceApi>([...dev].map(([n, d]) => [n, controllerView(d, log, n !== 'src')]));
  const peers = o.peers?.(dev) ?? new Map<string, DeviceApi>(dev);
  const engine = new MigrationEngine({ plan, machine, devices: view, transfer: inProcessTransfer(peers), pauseDeadlineMs: o.pauseDeadlineMs ?? 5_000, ...(o.onDeadline ? { onDeadline: o.onDeadline } : {}), precopy: { intervalMs: o.intervalMs ?? 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } }, graceMs: 0 });
  return { plan, engine, machine, dev, journal, log };
}

/** The fake named `n`. */
export const fakeAt = (d: Map<string, FakeDeviceApi>, n: string): FakeDeviceApi => d.get(n) as FakeDeviceApi;

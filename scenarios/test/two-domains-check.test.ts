/**
 * `carryover migrate --check --to-domain` against a real federation server on simulated switches:
 * dc-b plans and asks its own destinations (federation Check) and dc-a reports them beside its
 * sources; a peer refused for its identity, a destination dc-b cannot ask, a host dc-b lacks and a
 * peer controller that predates Check each end as the operator needs to read it. A check
 * journals and claims nothing at dc-b.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@grpc/grpc-js';
import { silentLogger } from 'p4runtime-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory, planToPeer } from '../../controller/index.js';
import type { Inventory, MigrationPlan } from '../../controller/index.js';
import { readClaim } from '../../controller/journal/vm-claim.js';
import { runCheck } from '../../controller/migrate/check-command.js';
import type { CheckConnector } from '../../controller/migrate/preflight.js';
import { DeviceApiFailure, listenMutualTls } from '../../plugin/index.js';
import type { DeviceApi } from '../../plugin/index.js';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { P4INFO_PATH, eventually } from '../edge-rig.js';
import { establish } from '../migration-fixture.js';
import { startTwoDomains } from '../two-domain-rig.js';
import type { TwoDomains } from '../two-domain-rig.js';

const PORTS = Array.from({ length: 6 }, (_, i) => 34_000 + i);

describe.skipIf(!opensslAvailable())('two domains — migrate --check --to-domain (needs openssl)', () => {
  let site: TwoDomains;
  const inject = { capabilitiesFail: false };
  beforeAll(async () => {
    site = await startTwoDomains({
      // dc-b's destination as dc-b's controller reaches it: its capabilities fail while asked to.
      wrapDestination: (api) => new Proxy(api, {
        get(target, prop, receiver) {
          const v: unknown = Reflect.get(target, prop, receiver);
          if (typeof v !== 'function') return v;
          const f = (v as (...a: unknown[]) => unknown).bind(target);
          return prop === 'capabilities' ? (...a: unknown[]) => (inject.capabilitiesFail ? Promise.reject(new DeviceApiFailure('DEVICE_UNREACHABLE', 'capabilities: injected failure')) : f(...a)) : f;
        },
      }) as DeviceApi,
    });
    for (const p of PORTS) expect(establish(site.src.sim, p)).toBe(true);
    expect(await eventually(async () => (await site.srcApi.capabilities()).slots.free === site.src.plugin.group.slots - PORTS.length)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await site?.stop();
  });

  /** dc-a's check of vm-7 to `toHost` in dc-b, with `edit` applied to dc-a's inventory text. */
  async function check(o: { toHost?: string; edit?: (yaml: string) => string; json?: boolean; awaitScan?: boolean } = {}): Promise<{ code: number; lines: string[] }> {
    const inv: Inventory = parseInventory((o.edit ?? ((y) => y))(site.inventoryA()), join(site.dir, 'dc-a.yaml'));
    const plan: MigrationPlan = planToPeer(inv, 'vm-7', 'host-a', 'dc-b', o.toHost ?? 'host-b');
    const connect: CheckConnector = async (d) => {
      const c = await site.connectA([d], { scope: { sources: [d.name], destinations: [] } });
      return { api: c.apis.get(d.name) as DeviceApi, stop: () => c.stop() };
    };
    const lines: string[] = [];
    const code = await runCheck({ plan, inventory: inv, defaultP4info: P4INFO_PATH, json: o.json === true, stdout: (l) => lines.push(l), connect, awaitScan: o.awaitScan === true });
    return { code, lines };
  }

  it('check across domains — dc-b names its destination and what it holds: READY, and nothing journalled or claimed at dc-b', async () => {
    const before = site.server.calls().length;
    const r = await check();
    expect(r.code).toBe(0);
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {2}edge-b \(destination, domain dc-b \(federation 127\.0\.0\.1:\d+\), P4Runtime 127\.0\.0\.1:\d+\): VM id 9, slots not counted \(index incomplete\); \d+ of \d+ slots free/));
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {2}destinations: planned by domain dc-b's controller \(federation 127\.0\.0\.1:\d+\), which asked them for this check$/));
    expect(r.lines).toContain(`  room at edge-b: need not known yet, at most ${site.dst.plugin.group.slots} free`);
    expect(r.lines.at(-1)).toMatch(/^READY/);
    expect(site.server.calls().slice(before)).toEqual([{ method: 'Check', peer: 'dc-a', migrationId: undefined, ok: true }]);
    expect(site.server.migrations()).toEqual([]);
    expect(await site.journalB.list()).toEqual([]);
    expect(readClaim(join(site.dir, 'carryover-journal'), 'vm-7')).toBeUndefined();
  });

  it('check across domains — a dc-b server whose certificate names another identity is NOT READY, PEER_REJECTED naming both, and asked nothing', async () => {
    const before = site.server.calls().length;
    const r = await check({ edit: (y) => y.replace(/identity: controller-dc-b/, 'identity: controller-dc-x') });
    expect(r.code).toBe(1);
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {2}PEER_REJECTED: dc-b \(domain dc-b \(federation 127\.0\.0\.1:\d+\)\): peer domain dc-b: refused the server at 127\.0\.0\.1:\d+: its certificate names '.*controller-dc-b.*', not 'controller-dc-x' \(peers\.dc-b\.identity\)/));
    expect(site.server.calls().length).toBe(before);
  });

  it('check across domains — a destination dc-b cannot ask is that device\'s DEVICE_UNREACHABLE, with dc-b\'s words', async () => {
    inject.capabilitiesFail = true;
    try {
      const r = await check();
      expect(r.code).toBe(1);
      expect(r.lines).toContainEqual(expect.stringMatching(/^ {2}DEVICE_UNREACHABLE: edge-b \(domain dc-b .*\): dc-b could not ask it: .*capabilities: injected failure/));
    } finally {
      inject.capabilitiesFail = false;
    }
  });

  it('check across domains — a host dc-b does not have is NOT READY with dc-b\'s list of hosts', async () => {
    const r = await check({ toHost: 'host-z', json: true });
    expect(r.code).toBe(1);
    const j = JSON.parse(r.lines[0] as string) as { problems: { reason: string; detail: string }[]; peerDomain: unknown };
    expect(j.peerDomain).toMatchObject({ name: 'dc-b', answered: false });
    expect(j.problems).toContainEqual({ reason: 'PEER_REJECTED', detail: expect.stringMatching(/domain dc-b has no host 'host-z' \(hosts: host-b\)/) as unknown });
  });

  it('check across domains — a peer controller without Check (an older carryover) is reachable and trusting: a note, the sources checked', async () => {
    // A mutual-TLS server with dc-b's certificate, trusting dc-a's CA, serving no method at all.
    const bare = new Server();
    const l = await listenMutualTls(bare, { listen: '127.0.0.1:0', ca: readFileSync(site.a.ca), cert: readFileSync(site.b.controller.cert), key: readFileSync(site.b.controller.key), logger: silentLogger, service: 'older federation' });
    try {
      const r = await check({ edit: (y) => y.replace(/address: 127\.0\.0\.1:\d+/, `address: 127.0.0.1:${l.port}`) });
      expect(r.lines).toContain(`  destinations: in domain dc-b; its controller (federation 127.0.0.1:${l.port}) predates the check and checks them when this one proposes the migration`);
      expect(r.lines).toContainEqual(expect.stringMatching(/^ {2}note: dc-b's controller predates the check/));
      expect(r.code).toBe(0);
    } finally {
      await l.close();
      bare.forceShutdown();
    }
  });
});

/**
 * Peer to peer, a pre-copy that outlives its ticket: the source daemon presents the controller's
 * ticket to the destination with every batch it sends, so the controller renews it while the
 * Transfer runs (RenewTicket). Field walkthrough 10 on real BMv2 found a 2 s ticket lifetime ending
 * a 4 s peer-to-peer pre-copy with "ticket refused: expired" while the same migration through the
 * controller committed; the CLI's tickets live 10 minutes, which a large VM's pre-copy can outlast.
 * Here tickets live 1 s (valid 3 s with the daemons' clock skew) and pre-copy runs 6 s.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryJournal, MigrationEngine, MigrationMachine, connectPlanDevices, loadInventory, planMigration, runMigration } from '../../controller/index.js';
import { TicketIssuer } from '../../controller/remote/ticket-issuer.js';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { startDaemonPairRig } from '../daemon-pair-rig.js';
import type { DaemonPairRig } from '../daemon-pair-rig.js';
import { siteYaml, writeDaemonConfig } from '../domain-files.js';
import { P4INFO_PATH, UPLINK } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment } from '../migration-fixture.js';
import { startDaemonInProcess } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';

const PORTS = Array.from({ length: 8 }, (_, i) => 37_000 + i);

describe.skipIf(!opensslAvailable())('p2p ticket renewal (needs openssl)', () => {
  let rig: DaemonPairRig | undefined;
  beforeAll(async () => {
    const r = (rig = await startDaemonPairRig('p2p-renew', [SRC_ID, DST_ID]));
    const { files, src, dst } = r;
    r.daemons.push(await startDaemonInProcess(writeDaemonConfig({ switchAddress: src.address, deviceId: src.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-a', files, deltaIntervalMs: 10, snapshotSource: 'index' })));
    r.daemons.push(await startDaemonInProcess(writeDaemonConfig({ switchAddress: dst.address, deviceId: dst.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-b', files, snapshotSource: 'index', trustedCallers: [files.controllerName, 'edge-a'] })));
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('p2p ticket renewal — tickets of 1 s, a pre-copy 4 s past its snapshot with the VM\'s traffic running: the source\'s Transfer keeps being accepted at the destination and the migration commits, every flow passing there', async () => {
    const { dir, files, src, dst, group, daemons } = rig as DaemonPairRig;
    const [a, b] = daemons as [RunningDaemon, RunningDaemon];
    const path = join(dir, 'site.yaml');
    writeFileSync(path, siteYaml({ files, devices: [`edge-a: { plugin: { address: ${a.address}, serverName: edge-a }, hosts: [host-a] }`, `edge-b: { plugin: { address: ${b.address}, serverName: edge-b }, hosts: [host-b] }`], vms: ['vm-7: { address: 10.0.0.5, host: host-a }'] }));
    const inv = loadInventory(path);
    const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
    const controller = inv.controller as NonNullable<typeof inv.controller>;
    const tickets = new TicketIssuer({ signer: inv.domain, key: readFileSync(files.signingKey, 'utf8'), ttlMs: 1_000 });
    const scope = { sources: ['edge-a'], destinations: ['edge-b'] };
    const connected = await connectPlanDevices([...plan.sources, ...plan.destinations], { defaultP4info: P4INFO_PATH, domain: inv.domain, controller, scope, tickets });
    // The VM's traffic during pre-copy: a data segment on every flow every 50 ms.
    let n = 1;
    const traffic = setInterval(() => {
      for (const p of PORTS) src.dataplane.inject(UPLINK, returnSegment(p, n));
      n++;
    }, 50);
    try {
      const journal = new MemoryJournal();
      const machine = await MigrationMachine.plan({ migrationId: 'm-renew', vm: 'vm-7', sources: scope.sources, destinations: scope.destinations }, { journal, now: () => Date.now() });
      const engine = new MigrationEngine({ plan, machine, devices: connected.apis, transfer: connected.transfer, pauseDeadlineMs: 60_000, precopy: { intervalMs: 100, policy: { maxRounds: 10_000, convergedAtSlots: -1 } }, graceMs: 0 });
      const paused$ = new Subject<void>();
      // The pause comes 4 s (four tickets' lives) after the snapshot is installed, not after the
      // start: on a loaded machine the daemon's first scan alone took most of 6 s, and the pause
      // then came before any delta round had to be accepted on a renewed ticket.
      let pause: ReturnType<typeof setTimeout> | undefined;
      const waitForSnapshot = setInterval(() => {
        void journal.load('m-renew').then((events) => {
          if (pause !== undefined || !events.some((e) => e.type === 'round')) return;
          clearInterval(waitForSnapshot);
          pause = setTimeout(() => {
            clearInterval(traffic);
            paused$.next();
          }, 4_000);
        });
      }, 50);
      const run = await runMigration(engine, { paused$ }).finally(() => {
        clearInterval(waitForSnapshot);
        clearTimeout(pause);
      });
      expect(run.aborted, JSON.stringify(run.aborted)).toBeUndefined();
      expect(machine.state.phase).toBe('COMMITTED');
      // Well past a ticket's life: the pre-copy's rounds kept arriving at the destination (timed
      // by the journal, not counted: a loaded machine runs fewer rounds in 6 s).
      const events = await journal.load('m-renew');
      const rounds = events.filter((e) => e.type === 'round');
      expect(rounds.length).toBeGreaterThan(2);
      expect((rounds.at(-1)?.atMs ?? 0) - (rounds[0]?.atMs ?? Infinity)).toBeGreaterThan(3_000);
      expect(countVmSlots(dst, group, DST_ID)).toBe(PORTS.length);
      expect(countVmSlots(src, group, SRC_ID)).toBe(0);
      for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, returnSegment(p, n + 1)).kind).toBe('forward');
    } finally {
      clearInterval(traffic);
      await connected.stop();
    }
  }, 120_000);
});

/**
 * Opt-in, against the real BMv2 simple_switch_grpc 1.15.5 (CARRYOVER_BMV2; without it this test is
 * reported skipped, the variable named in the title): `carryover migrate --check` between two
 * BMv2s reads what BMv2 holds — the VM map and the migration control table — and writes nothing a
 * migration depends on; and a VM that already runs at the destination (its flows there, made by
 * PacketOut) is refused by the check and by the migration, counted through BMv2's in-band slot
 * reads. CARRYOVER_BMV2_GRPC_PORT (optional) puts the switches' P4Runtime on that port and the
 * next three.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import { runMigrateCli } from '../cli-sims.js';
import { back, out, topology } from '../migration-fixture.js';
import { BMV2_JSON_PATH, P4INFO_PATH, UPLINK, eventually, injectViaPacketOut } from '../edge-rig.js';
import { realToolsFromEnv, startBmv2 } from '../real-tools.js';
import type { Bmv2Process } from '../real-tools.js';

const tools = realToolsFromEnv();
const basePort = Number(process.env['CARRYOVER_BMV2_GRPC_PORT'] ?? 0);
const started: Bmv2Process[] = [];
const dir = mkdtempSync(join(tmpdir(), 'carryover-check-real-'));
afterAll(async () => {
  for (const b of started.splice(0)) await b.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A BMv2 running stateful_edge (pushed here, as the switch's own controller would) and a session on it. */
async function bmv2(i: number): Promise<{ bmv2: Bmv2Process; sw: P4Switch }> {
  const b = await startBmv2(tools.bmv2 ?? '', 20_000, undefined, basePort > 0 ? basePort + i : undefined);
  started.push(b);
  const sw = await P4Switch.connect({ address: b.address, deviceId: 0n, electionId: 5n });
  await sw.ensurePipeline({ schema: P4Schema.fromFile(P4INFO_PATH), deviceConfig: readFileSync(BMV2_JSON_PATH) });
  return { bmv2: b, sw };
}

/** The inventory: edge-a (host-a, where it says vm-7 runs) and edge-b (host-b), each reached in process. */
function site(a: Bmv2Process, b: Bmv2Process, journal: string): string {
  return `
journal: ./${journal}
devices:
  edge-a: { address: ${a.address}, deviceId: 0, electionId: 20, hosts: [host-a] }
  edge-b: { address: ${b.address}, deviceId: 0, electionId: 20, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;
}

interface CheckJson {
  outcome: string;
  devices: { name: string; vm?: { id: number | null; runsHere: boolean } }[];
  problems: { reason: string; detail: string }[];
}

describe.skipIf(!tools.bmv2)(`real BMv2 — migrate --check reads the VM map and control table (${tools.bmv2Missing ?? `CARRYOVER_BMV2=${tools.bmv2}`})`, () => {
  it('migrate --check on BMv2 — a destination without the VM in its map is not ready, named with the fix; laid out, ready; no control entry written on either', async () => {
    const [a, b] = [await bmv2(0), await bmv2(1)];
    try {
      await topology(a.sw, 7);
      writeFileSync(join(dir, 'site.yaml'), site(a.bmv2, b.bmv2, 'journal'));
      const argv = ['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check', '--json'];
      const missing = await runMigrateCli(argv);
      expect(missing.code, missing.err.join('\n')).toBe(1);
      const m = JSON.parse(missing.out[0] ?? '{}') as CheckJson;
      expect(m.problems).toEqual([{ reason: 'PEER_REJECTED', detail: expect.stringMatching(/^edge-b: VM vm-7 \(10\.0\.0\.5\) is not in the switch's VM map/) as string }]);
      expect(m.devices[0]?.vm).toMatchObject({ id: 7, runsHere: true });
      // The check's own sessions (election id 20) have closed, but BMv2 may not have processed that
      // yet: until it has, this session is not primary there and a Write is refused whole.
      expect(await eventually(() => topology(b.sw, 9).then(() => true, (e: unknown) => (/Not primary/.test(String(e)) ? false : Promise.reject(e))), 10_000, 100)).toBe(true);
      const ready = await runMigrateCli(argv);
      expect(ready.code, ready.out.join('\n')).toBe(0);
      expect(JSON.parse(ready.out[0] ?? '{}')).toMatchObject({ outcome: 'ready', devices: [{ name: 'edge-a', vm: { id: 7, runsHere: true } }, { name: 'edge-b', vm: { id: 9 } }], problems: [] });
      for (const sw of [a.sw, b.sw]) expect(await sw.readAll(sw.table('vm_migration').all())).toEqual([]);
    } finally {
      await Promise.all([a.sw.close(), b.sw.close()]);
    }
  }, 120_000);

  it('migrate on BMv2 — the VM already runs at the destination (its flows there, none at the source): --check --scan and the migration both refuse PEER_REJECTED naming edge-b and its flow count; no control entry left on either switch', async () => {
    const [a, b] = [await bmv2(2), await bmv2(3)];
    try {
      await topology(a.sw, 7);
      await topology(b.sw, 9);
      // The VM's connections at B, as its traffic makes them: SYN out, SYN-ACK in, ACK out.
      const PORTS = Array.from({ length: 12 }, (_, i) => 36_000 + i);
      for (const p of PORTS) {
        injectViaPacketOut(b.sw, 1, out(p, 100, 0, 0x02));
        injectViaPacketOut(b.sw, UPLINK, back(p, 900, 101, 0x12));
        injectViaPacketOut(b.sw, 1, out(p, 101, 901, 0x10));
      }
      // PacketOuts are not answered: a Read behind them on the same switch is served after them.
      await b.sw.readAll(b.sw.table('vm_table').all());
      writeFileSync(join(dir, 'stale-to.yaml'), site(a.bmv2, b.bmv2, 'journal-stale'));
      const argv = ['--config', join(dir, 'stale-to.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--json'];
      const checked = await runMigrateCli([...argv, '--check', '--scan']);
      expect(checked.code, checked.err.join('\n')).toBe(1);
      const seen = new RegExp(`seems to run at the destination already: the sources hold no flow of it, edge-b holds ${PORTS.length} of its flows`);
      expect((JSON.parse(checked.out[0] ?? '{}') as CheckJson).problems).toEqual([{ reason: 'PEER_REJECTED', detail: expect.stringMatching(seen) as string }]);
      const migrated = await runMigrateCli([...argv, '--pause-deadline-ms', '60000']);
      expect(migrated.code, migrated.err.join('\n')).toBe(1);
      expect(JSON.parse(migrated.out[0] ?? '{}')).toMatchObject({ reason: 'PEER_REJECTED', detail: expect.stringMatching(seen) as string });
      for (const sw of [a.sw, b.sw]) {
        const entries = async (): Promise<unknown[] | undefined> => sw.readAll(sw.table('vm_migration').all()).catch(() => undefined);
        expect(await eventually(async () => (await entries())?.length === 0, 10_000, 100)).toBe(true);
      }
    } finally {
      await Promise.all([a.sw.close(), b.sw.close()]);
    }
  }, 240_000);
});

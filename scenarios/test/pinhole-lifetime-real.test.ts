/**
 * Opt-in, against the real BMv2 simple_switch_grpc 1.15.5 (CARRYOVER_BMV2; without it these tests
 * are reported skipped, the variable named in the title): a pinhole moved between two BMv2s keeps
 * the lifetime it had left at the source. BMv2 reports `time_since_last_hit` from a remaining time
 * it computes modulo 2^32 ns (plugin/idle-time.ts), so a 12 s entry 1 s old reads ≈2.4 s left:
 * read as reported, the destination deleted the pinhole after ≈2.4 s. And a pinhole the source's
 * traffic refreshed after the snapshot lives by the final list's lifetime, not the snapshot's (it
 * was deleted at activation, ≈1 s after the commit, on two BMv2s). CARRYOVER_BMV2_GRPC_PORT
 * (optional) puts the two switches' P4Runtime on that port and the next one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEdgePlugin } from '../../plugin/index.js';
import type { EdgePlugin, PinholeLearner } from '../../plugin/index.js';
import { exportTableEntries, importTableEntries } from '../../plugin/device-api/table-entry-transfer.js';
import type { ImportedEntries } from '../../plugin/device-api/table-entry-transfer.js';
import { BMV2_JSON_PATH, P4INFO_PATH, UPLINK, injectViaPacketOut } from '../edge-rig.js';
import { topology, udpIn, udpOut } from '../migration-fixture.js';
import { realToolsFromEnv, startBmv2 } from '../real-tools.js';
import type { Bmv2Process } from '../real-tools.js';

const tools = realToolsFromEnv();
const basePort = Number(process.env['CARRYOVER_BMV2_GRPC_PORT'] ?? 0);
const started: { bmv2: Bmv2Process; plugin: EdgePlugin }[] = [];
afterAll(async () => {
  for (const s of started.splice(0)) {
    await s.plugin.stop().catch(() => undefined);
    await s.bmv2.stop();
  }
});

/** A BMv2 running stateful_edge behind a started edge plugin with 12 s pinholes. */
async function edge(i: number): Promise<{ plugin: EdgePlugin; learner: PinholeLearner }> {
  const bmv2 = await startBmv2(tools.bmv2 ?? '', 20_000, undefined, basePort > 0 ? basePort + i : undefined);
  const plugin = createEdgePlugin({ address: bmv2.address, deviceId: 0, electionId: 10n, p4info: P4INFO_PATH, deviceConfig: BMV2_JSON_PATH, pinholeIdleTimeout: '12s' });
  started.push({ bmv2, plugin });
  await plugin.start();
  const learner = plugin.pinholes();
  if (!learner) throw new Error('no pinhole learner');
  return { plugin, learner };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MATCH = { vm_id: 7n, vm_addr: 0x0a000005n, remote_addr: 0xc6336401n, vm_port: 5001n, remote_port: 53n, protocol: 17n };

describe.skipIf(!tools.bmv2)(`real BMv2 — a moved pinhole keeps its remaining lifetime (${tools.bmv2Missing ?? `CARRYOVER_BMV2=${tools.bmv2}`})`, () => {
  it('pinhole lifetime on BMv2 — exported with ≈11 s left of 12 s, present at the destination 6 s after the move, ended there by its carried deadline', async () => {
    const src = await edge(0);
    const dst = await edge(1);
    // A pinhole as the learner installs it, then 1 s without traffic.
    const sw = src.plugin.session;
    await sw.write(sw.table('dyn_acl').insert({ match: MATCH, action: 'pinhole_allow', idleTimeout: '12s' }));
    await sleep(1_000);
    const exported = await src.learner.exportEntries(7);
    expect(exported).toHaveLength(1);
    const left = Number(exported[0]?.remainingNs ?? 0n) / 1e9;
    // Read as reported, BMv2's value would say ≈2.4 s (11 s modulo 2^32 ns).
    expect(left).toBeGreaterThan(10);
    expect(left).toBeLessThanOrEqual(11.1);

    expect(await dst.learner.importEntries(7, exported, { ageMs: 0 })).toMatchObject({ installed: 1, expired: 0 });
    const present = async (): Promise<number> => (await dst.plugin.session.readAll(dst.plugin.session.table('dyn_acl').all())).length;
    await sleep(6_000);
    expect(await present()).toBe(1);
    expect(dst.learner.stats().lifetimeEnded).toBe(0);

    // Past what it had left (≈11 s after the move) and the destination's deadline check: gone.
    await sleep(left * 1_000 - 6_000 + 2_500);
    await dst.learner.idle();
    expect(await present()).toBe(0);
    expect(dst.learner.stats().lifetimeEnded).toBe(1);
  }, 60_000);

  it('pinhole lifetime on BMv2 — refreshed at the source after the snapshot (≈2 s left then), it lives by the final list (≈11 s) at the destination and goes after it', async () => {
    const src = await edge(2);
    const dst = await edge(3);
    const sw = src.plugin.session;
    await topology(sw, 7);
    // The VM's query: the learner installs the pinhole (12 s); 10 s without traffic.
    injectViaPacketOut(sw, 1, udpOut(5011));
    const count = async (e: { plugin: EdgePlugin }): Promise<number> => (await e.plugin.session.readAll(e.plugin.session.table('dyn_acl').all())).length;
    for (let i = 0; i < 50 && (await count(src)) === 0; i++) await sleep(100);
    expect(await count(src)).toBe(1);
    await sleep(10_000);
    const snapshot = await exportTableEntries(src.plugin, 7);
    expect(Number(snapshot[0]?.remainingNs ?? 0n) / 1e9).toBeLessThan(2.5);
    dst.learner.setPhase(7, 'staged');
    const imported: ImportedEntries = new Map();
    await importTableEntries(dst.plugin, 7, 'src', snapshot, imported);

    // Pre-copy goes on: the reply passes the pinhole at the source 1 s later; the freeze 2 s after that.
    await sleep(1_000);
    injectViaPacketOut(sw, UPLINK, udpIn(5011));
    await sleep(2_000);
    const final = await exportTableEntries(src.plugin, 7, snapshot);
    const left = Number(final[0]?.remainingNs ?? 0n) / 1e9;
    expect(left).toBeGreaterThan(9);
    await importTableEntries(dst.plugin, 7, 'src', final, imported);

    // Activation, 3 s after the snapshot's import: still there 3 s on.
    dst.learner.setPhase(7, 'normal');
    await sleep(3_000);
    await dst.learner.idle();
    expect(await count(dst)).toBe(1);
    expect(dst.learner.stats().lifetimeEnded).toBe(0);

    // Past the final list's lifetime: gone (here 12 s after its insert too, so BMv2's reading,
    // which stops at the timeout, leaves it to the idle notice that follows).
    await sleep(left * 1_000 - 3_000 + 2_500);
    await dst.learner.idle();
    expect(await count(dst)).toBe(0);
    expect(dst.learner.stats().lifetimeEnded + dst.learner.stats().expired).toBe(1);
  }, 60_000);
});

/**
 * A stale inventory the other way round across two domains: the VM already runs at dc-b's edge
 * that `--to-domain dc-b` would move it to, while dc-a's source holds none of its flows. dc-b
 * answers what its destinations hold (federation Footprint), so dc-a refuses before anything is
 * staged at dc-b — staging there would drop the VM's live traffic. Simulated switches, both
 * controllers' federation over real gRPC with mutual TLS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { UPLINK, eventually } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment } from '../migration-fixture.js';
import { startTwoDomains } from '../two-domain-rig.js';
import type { TwoDomains } from '../two-domain-rig.js';

const PORTS = Array.from({ length: 8 }, (_, i) => 34_000 + i);

describe.skipIf(!opensslAvailable())('two domains — the VM already at the destination domain (needs openssl)', () => {
  let site: TwoDomains;
  beforeAll(async () => {
    site = await startTwoDomains();
    // The VM's flows at dc-b's edge, where its host already is; none at dc-a's edge.
    for (const p of PORTS) expect(establish(site.dst.sim, p)).toBe(true);
    expect(await eventually(async () => (await site.dstApi.capabilities()).slots.free === site.dst.plugin.group.slots - PORTS.length)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await site?.stop();
  });

  it('two domains — refused PEER_REJECTED naming dc-b and its flows, from dc-b\'s own answer: nothing staged at dc-b and no control entry left there, the VM\'s flows at dc-b pass; dc-b forgets the proposal', async () => {
    const out = await site.migrate('m-at-dc-b');
    expect(out.run.aborted).toMatchObject({ reason: 'PEER_REJECTED', detail: expect.stringMatching(new RegExp(`seems to run at the destination already: the sources hold no flow of it, dc-b holds ${PORTS.length} of its flows[^]*--ignore-destination-flows`)) as unknown });
    expect(site.server.calls().map((c) => c.method)).toContain('Footprint');
    // Prepared (the control entries read first), refused once dc-a's snapshot held nothing: rolled back, nothing staged.
    const b = (await site.journalB.load('m-at-dc-b')).map((e) => e.type);
    expect(b).not.toContain('round');
    expect(b.at(-1)).toBe('rolled-back');
    expect(site.dst.sim.state.tableEntries('vm_migration')).toEqual([]);
    expect(countVmSlots(site.dst.sim, site.dst.plugin.group, DST_ID)).toBe(PORTS.length);
    expect(countVmSlots(site.src.sim, site.src.plugin.group, SRC_ID)).toBe(0);
    for (const p of PORTS) expect(site.dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
    expect(await eventually(async () => site.server.migrations().length === 0)).toBe(true);
  }, 60_000);

  it('two domains — --ignore-destination-flows migrates anyway (the operator says those flows are leftovers): committed, the flows at dc-b not concluded on', async () => {
    const before = site.server.calls().length;
    const out = await site.migrate('m-at-dc-b-anyway', { ignoreDestinationFlows: true });
    expect(out.run.aborted).toBeUndefined();
    expect(out.run.committed).toBeDefined();
    // dc-b is still asked (for a migration left unfinished there), but its flows are not concluded on.
    expect(site.server.calls().slice(before).map((c) => c.method).slice(0, 4)).toEqual(['Propose', 'Agree', 'Footprint', 'Prepare']);
  }, 60_000);
});

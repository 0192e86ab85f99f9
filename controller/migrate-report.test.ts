/**
 * The text report of `carryover migrate` (migrateReportLines) for outcomes built by hand: what
 * it tells the operator to change in the inventory after a commit, within a domain and across two.
 */
import { describe, expect, it } from 'vitest';
import { migrateReportLines } from './migrate-report.js';
import type { MigrationPlan } from './plan/plan-migration.js';
import { fakeInventoryDevice } from './testing/check-fakes.js';

const plan = (o: Partial<MigrationPlan> = {}): MigrationPlan => ({
  vm: { name: 'vm-7', address: '10.0.0.5', host: 'host-a' }, fromHost: 'host-a', toHost: 'host-b', sources: [fakeInventoryDevice('a')], destinations: [fakeInventoryDevice('b')],
  topology: '1:1', placement: undefined, edgeDestinations: [fakeInventoryDevice('b')], counterparts: new Map(), ...o,
});
const committed = { migrationId: 'm1', rounds: [10], translations: [], run: { rounds: [], sync: undefined, committed: { deleted: 10, skipped: 0 }, aborted: undefined } };

describe('migrate report — the inventory after a commit', () => {
  it('migrate report — within a domain: set the VM\'s host to the one it moved to', () => {
    expect(migrateReportLines(committed, plan())).toContain('  inventory: vm-7 runs on host-b now; set vms.vm-7.host to host-b before its next migration');
  });

  it('migrate report — across domains: the host is the peer\'s, so the VM leaves this inventory for the peer\'s (walkthrough 21: it said to set a host this domain does not have)', () => {
    const lines = migrateReportLines(committed, plan({ toDomain: 'dc-b' }));
    expect(lines).toContain("  inventory: vm-7 runs on host-b in domain dc-b now; remove it from this inventory's vms, and add it to dc-b's (host host-b) for a migration from there");
    expect(lines.join('\n')).not.toMatch(/set vms\.vm-7\.host/);
  });

  it('migrate report — pre-copy cut at the round limit says so, with the slots still changing; a converged or paused one says that (walkthrough 23)', () => {
    const line = (o: object): string => migrateReportLines({ ...committed, rounds: [10, 4, 3], ...o }, plan()).find((l) => l.startsWith('  pre-copy:')) ?? '';
    expect(line({ precopyEnd: { by: 'round-limit', maxRounds: 2, lastSlots: 3 } })).toBe('  pre-copy: snapshot 10 slots (one per flow), 2 delta rounds (slots each: 4, 3); not converged: stopped at the 2-round limit with 3 slots still changing per round (the pause carried the rest)');
    expect(line({ precopyEnd: { by: 'converged', maxRounds: 30 } })).toMatch(/; converged$/);
    expect(line({ precopyEnd: { by: 'paused', maxRounds: 30 } })).toMatch(/; ended when the VM paused$/);
  });
});

/**
 * `carryover demo --plugins process --domains 2` end to end: two domains, plugin daemons as child
 * processes running the built command, the controllers over federation. After the migration every
 * open flow passes dc-b's switch both ways and the control twin drops them, every tracked flow and
 * pinhole arrived, counters are conserved, only the commit crossed inside the pause, and both
 * domains journalled the whole migration.
 */
import { describe, expect, it } from 'vitest';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { DEFAULT_DOMAINS_DEMO_OPTIONS, domainsDemoSucceeded, renderDomainsDemoReport, runDomainsDemo, runDomainsDemoFromFlags } from './domains-demo.js';

describe('demo — two domains', () => {
  it.skipIf(!opensslAvailable())('demo — two domains, plugins as processes: flows survive in dc-b, the control breaks them, one call crosses inside the pause (needs openssl and the build)', async () => {
    const lines: string[] = [];
    // A generous pause budget: this checks behaviour on a loaded test machine, not speed (see bench domains).
    const r = await runDomainsDemo({ ...DEFAULT_DOMAINS_DEMO_OPTIONS, plugins: 'process', flows: 60, precopySteps: 12, pauseDeadlineMs: 60_000, progress: (l) => lines.push(l) });
    expect(r.aborted).toBeUndefined();
    expect(r.pluginPids).toHaveLength(2);
    expect(r.pluginPids).not.toContain(process.pid);
    expect(r.openAtPause).toBeGreaterThan(40);
    expect(r.survivedWith).toBe(r.openAtPause);
    expect(r.brokenWithout).toBe(r.openAtPause);
    expect(r.flowsMigrated).toBe(r.flowsAtFreeze);
    expect(r.pinholesMigrated).toBe(r.pinholesAtFreeze);
    expect(r.pinholesAtFreeze).toBeGreaterThan(0);
    expect(r.countersConserved).toBe(true);
    expect(r.callsInPause).toEqual(['Commit']);
    expect(r.federationCalls.slice(0, 4)).toEqual(['Propose', 'Agree', 'Footprint', 'Prepare']);
    // dc-a journals its source's delete done (cleaned-at) before dc-b records the commit (Finish).
    expect(r.journals['dc-a'].slice(-6)).toEqual(['frozen', 'synced', 'activated', 'committed', 'cleaned-at', 'source-cleaned']);
    expect(r.journals['dc-b'].slice(-5)).toEqual(['frozen', 'synced', 'activated', 'committed', 'source-cleaned']);
    expect(domainsDemoSucceeded(r)).toBe(true);
    expect(renderDomainsDemoReport(r)).toMatch(/inside the pause Commit;[\s\S]*result: OK$/);
    expect(lines.join('\n')).toMatch(/plugin daemons as processes \(pids \d+, \d+\)/);
  }, 300_000);

  it('demo — two domains: flags it cannot honour are usage errors before anything starts', async () => {
    const usage = (m: string): Error => new Error(`usage: ${m}`);
    await expect(runDomainsDemoFromFlags({ plugins: 'process' }, usage)).rejects.toThrow(/usage: --domains 1 with --plugins process: .*use --domains 2/);
    await expect(runDomainsDemoFromFlags({ domains: '2', plugins: 'thread' }, usage)).rejects.toThrow(/usage: --plugins thread: expected process or in-process/);
    await expect(runDomainsDemoFromFlags({ domains: '2', vm: 'qemu' }, usage)).rejects.toThrow(/usage: --domains 2 runs with the simulated VM/);
    await expect(runDomainsDemoFromFlags({ domains: '2', flows: '0' }, usage)).rejects.toThrow(/usage: --flows 0: expected an integer 1\.\.20000/);
  });
});

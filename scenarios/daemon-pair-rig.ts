/**
 * Two simulated switches ready for plugin daemons, with a domain's certificates and keys: what
 * the daemon tests start from. The VM is laid out on both (its id `ids[0]` at the first, `ids[1]`
 * at the second); the daemons are the test's own, stopped with the rig.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlotGroupSpec } from '../plugin/index.js';
import { TestPki } from '../plugin/testing/test-pki.js';
import type { SimSwitch } from '../sim/index.js';
import { makeDomainFiles } from './domain-files.js';
import type { DomainFiles } from './domain-files.js';
import { startSwitchForDaemon } from './plugin-daemons.js';
import type { RunningDaemon } from './plugin-daemons.js';

/** The rig: switches, files, the daemons started on it, and its cleanup. */
export interface DaemonPairRig {
  readonly dir: string;
  readonly files: DomainFiles;
  readonly src: SimSwitch;
  readonly dst: SimSwitch;
  readonly group: SlotGroupSpec;
  /** Daemons to stop with the rig. */
  readonly daemons: RunningDaemon[];
  stop(): Promise<void>;
}

/** Starts the two switches and makes domain `domain`'s files in a fresh directory named after `prefix`. */
export async function startDaemonPairRig(prefix: string, ids: readonly [number, number] = [7, 9], domain = 'dc-a'): Promise<DaemonPairRig> {
  const dir = mkdtempSync(join(tmpdir(), `carryover-${prefix}-`));
  const pki = new TestPki();
  const files = makeDomainFiles(pki, dir, domain);
  const [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(ids[0]), startSwitchForDaemon(ids[1])]);
  const daemons: RunningDaemon[] = [];
  return {
    dir, files, src, dst, group, daemons,
    async stop() {
      for (const d of daemons) await d.stop();
      await Promise.all([src.stop(), dst.stop()]);
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

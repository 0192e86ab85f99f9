/**
 * Putting a digest's configuration back after hw-test changed it: the old configuration written
 * again, or — for a digest that had none — the DigestEntry deleted, except on BMv2. There,
 * deleting a DigestEntry and configuring it again corrupts simple_switch_grpc's memory (PI's
 * digest manager): in the lab's runs of hw-test against one BMv2 it aborted within two to five
 * runs ("corrupted double-linked list" in the learn notifications' path, or PI's assertion
 * `cache.empty()` in DigestData::reset), and never in ten runs without the deletes. So on profile
 * bmv2 the digest stays configured, and the undo says so.
 */
import type { HwTestSession } from './session.js';
import { targetStatus } from './target-status.js';

/** A digest's configuration as P4Runtime's DigestEntry carries it. */
export interface DigestConfig {
  readonly maxListSize: number;
  readonly maxTimeoutNs: bigint;
  readonly ackTimeoutNs: bigint;
}

/** The digest's configuration on the target, or undefined when it has none. */
export async function readDigestConfig(s: HwTestSession, name: string): Promise<DigestConfig | undefined> {
  try {
    const [c] = await s.sw.readAll(s.sw.digest(name).config());
    return c ? { maxListSize: c.maxListSize, maxTimeoutNs: c.maxTimeoutNs, ackTimeoutNs: c.ackTimeoutNs } : undefined;
  } catch (e) {
    if (targetStatus(e).code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/** Puts back `old` (undefined: the digest had no configuration) as far as the target allows. */
export async function restoreDigestConfig(s: HwTestSession, name: string, old: DigestConfig | undefined): Promise<void> {
  const h = s.sw.digest(name);
  if (old) {
    await s.sw.write(h.modify(old));
    return;
  }
  if (!s.profile.deletesDigestEntries) {
    s.undo.note(`${s.o.target}: digest ${name} is left configured: deleting a DigestEntry corrupts ${s.profile.describes} (hw-test/digest-restore.ts)`);
    return;
  }
  try {
    await s.sw.write(h.delete());
  } catch (e) {
    if (targetStatus(e).code !== 'NOT_FOUND') throw e;
  }
}

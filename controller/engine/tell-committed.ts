/**
 * After a commit, each destination is told (DeviceApi.committed) so that it forgets what it kept to
 * undo the migration. Best effort: the migration is committed whatever the answer, and a device
 * that cannot be told keeps its record until the VM moves on from it.
 */
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';

/** Tells every destination that offers it that `ref` committed; a failure is logged, never thrown. */
export async function tellCommitted(destinations: readonly (readonly [string, DeviceApi | undefined])[], ref: MigrationRef, logger: Logger): Promise<void> {
  await Promise.all(destinations.map(async ([name, api]) => {
    try {
      await api?.committed?.(ref);
    } catch (e) {
      logger.warn('a destination was not told of the commit: it keeps what it held to undo the migration until the VM moves on', { device: name, error: e instanceof Error ? e.message : String(e) });
    }
  }));
}

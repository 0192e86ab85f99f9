/**
 * One migration's care of the controller's heap, so that garbage is collected while the VM runs
 * and not in its pause window: the young generation kept with room from pre-copy until the pause
 * (young-headroom.ts), and the snapshot's garbage collected once it is staged (old-headroom.ts).
 *
 * @example
 * ```ts
 * const heap = new HeapKeeper({}, logger); // throws the options' own error when out of range
 * heap.startPrecopy();
 * const before = heap.beforeSnapshot();
 * // … the snapshot exported, translated and staged …
 * heap.afterSnapshot(before);
 * // … the VM pauses:
 * heap.stop();
 * ```
 */
import type { Logger } from 'p4runtime-ts';
import { collectAfterBurst, logBurstCollection, parseOldHeadroomOptions, v8OldGeneration } from './old-headroom.js';
import type { OldGeneration, OldHeadroomOptions } from './old-headroom.js';
import { keepYoungHeadroom, parseYoungHeadroomOptions, v8YoungGeneration } from './young-headroom.js';
import type { MigrationEngineOptions } from './engine-types.js';
import type { YoungGeneration, YoungHeadroomKeeper, YoungHeadroomOptions } from './young-headroom.js';

/** The engine options HeapKeeper reads (documented on MigrationEngineOptions). */
export type HeapKeeperOptions = Pick<MigrationEngineOptions, 'youngGeneration' | 'youngHeadroom' | 'oldGeneration' | 'oldHeadroom'>;

/** A migration's young-generation keeper and its collection after the snapshot. */
export class HeapKeeper {
  private readonly young: YoungGeneration | undefined;
  private readonly youngOptions: Readonly<Required<YoungHeadroomOptions>>;
  private youngKeeper: YoungHeadroomKeeper | undefined;
  private readonly old: OldGeneration | undefined;
  private readonly oldOptions: Readonly<Required<OldHeadroomOptions>>;

  /** Validates the options (throws YoungHeadroomOptionsError or OldHeadroomOptionsError); false turns a part off. */
  constructor(
    o: HeapKeeperOptions,
    private readonly logger: Logger,
  ) {
    this.youngOptions = parseYoungHeadroomOptions(o.youngHeadroom ?? {});
    this.oldOptions = parseOldHeadroomOptions(o.oldHeadroom ?? {});
    this.young = o.youngGeneration === false ? undefined : (o.youngGeneration ?? v8YoungGeneration());
    this.old = o.oldGeneration === false ? undefined : (o.oldGeneration ?? v8OldGeneration());
  }

  /** Starts keeping the young generation with room (once; again after stop). */
  startPrecopy(): void {
    if (this.young && !this.youngKeeper) this.youngKeeper = keepYoungHeadroom(this.young, this.youngOptions);
  }

  /** The old generation in use before the snapshot, or undefined when not kept. */
  beforeSnapshot(): number | undefined {
    return this.old?.used();
  }

  /** Once the snapshot is staged: collects its garbage if it passed the threshold, and logs what it did. */
  afterSnapshot(before: number | undefined): void {
    if (this.old && before !== undefined) logBurstCollection(this.logger, collectAfterBurst(this.old, before, this.oldOptions));
  }

  /** Ends the young generation's keeper (idempotent), logging what it did. */
  stop(): void {
    const k = this.youngKeeper?.stop();
    this.youngKeeper = undefined;
    if (k && k.checks > 0) this.logger.debug('young generation kept with room for the pause', { checks: k.checks, collections: k.collections });
  }
}

/**
 * A stale inventory the other way round: the VM already runs at the switch it is to move *to*.
 * Staging there would drop its live traffic until the (empty) migration activated. The evidence
 * is the switches' own: no source holds a flow of the VM, while a destination holds some and its
 * control entry does not mark the VM left (a switch a migration moved it away from is marked, so
 * flows left there are leftovers, not the VM). The control entries are read before prepare, which
 * rewrites them; the slots are counted once the sources' snapshots said they hold none.
 */
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, VmFootprint } from '../../plugin/index.js';

/** A destination where the VM evidently runs: its flows there, and the VM not marked left. */
export interface VmSeenAt {
  readonly device: string;
  readonly slots: number;
}

/** What each device holds of the VM before prepare (undefined: it cannot tell, or the read failed). */
export type Whereabouts = ReadonlyMap<string, VmFootprint | undefined>;

/** Reads each device's footprint of `vm` (DeviceApi.footprint) at once; a device that cannot tell or fails is undefined (prepare reports its failure). */
export async function readWhereabouts(devices: ReadonlyMap<string, DeviceApi>, names: readonly string[], vm: string, logger: Logger): Promise<Whereabouts> {
  const read = await Promise.all(
    names.map(async (n): Promise<[string, VmFootprint | undefined]> => {
      try {
        return [n, await devices.get(n)?.footprint?.(vm)];
      } catch (e) {
        logger.debug('footprint not read; whether the VM already runs there is not checked', { device: n, error: e instanceof Error ? e.message : String(e) });
        return [n, undefined];
      }
    }),
  );
  return new Map(read);
}

/**
 * The destinations the VM evidently runs at, given that the sources hold `sourceSlots` of its
 * flows (undefined: not known, nothing is concluded): none when the sources hold any.
 * `before` is each destination's footprint before prepare (its control entry), `now` its slot
 * count now (undefined: its slot index cannot count).
 */
export function vmSeenAtDestinations(sourceSlots: number | undefined, before: Whereabouts, now: ReadonlyMap<string, number | undefined>): VmSeenAt[] {
  if (sourceSlots !== 0) return [];
  const seen: VmSeenAt[] = [];
  for (const [device, slots] of now) {
    if (!mayRunThere(before.get(device)) || slots === undefined || slots === 0) continue;
    seen.push({ device, slots });
  }
  return seen;
}

/** The refusal's text: where the VM's flows are, and the two ways on. */
export function vmSeenMessage(vm: string, seen: readonly VmSeenAt[]): string {
  const where = seen.map((s) => `${s.device} holds ${s.slots} of its flows`).join(', ');
  return `${vm} seems to run at the destination already: the sources hold no flow of it, ${where}, and no migration marked it as having left. Staging it there would drop its live traffic until the migration activated. Is the inventory's host for the VM out of date? Correct --from (or the VM's host in the inventory); if those flows are leftovers of a move carryover did not make, --ignore-destination-flows migrates anyway`;
}

/** The destinations the VM may run at, by what they held before prepare: mapped, not marked left, not counted empty. */
export function destinationCandidates(before: Whereabouts, destinations: readonly string[]): string[] {
  return destinations.filter((d) => mayRunThere(before.get(d)) && before.get(d)?.slots !== 0);
}

/** Whether a device's footprint leaves room for the VM running there: mapped, and not marked left. */
function mayRunThere(f: VmFootprint | undefined): boolean {
  return f?.vmId !== undefined && f.runsHere;
}

/**
 * Each device's count of the VM's slots: as read before prepare where it was counted, else asked
 * again, waiting for a scan of its slot group under way (undefined: it still cannot count).
 */
export async function countVmSlots(devices: ReadonlyMap<string, DeviceApi>, names: readonly string[], vm: string, before: Whereabouts, logger: Logger): Promise<Map<string, number | undefined>> {
  const counted = await Promise.all(
    names.map(async (n): Promise<[string, number | undefined]> => {
      const known = before.get(n)?.slots;
      if (known !== undefined) return [n, known];
      try {
        return [n, (await devices.get(n)?.footprint?.(vm, { awaitScan: true }))?.slots];
      } catch (e) {
        logger.debug('footprint not read', { device: n, error: e instanceof Error ? e.message : String(e) });
        return [n, undefined];
      }
    }),
  );
  return new Map(counted);
}

/** The sum of `counts`, or undefined when any is unknown. */
export function sumKnown(counts: ReadonlyMap<string, number | undefined>): number | undefined {
  let sum = 0;
  for (const n of counts.values()) {
    if (n === undefined) return undefined;
    sum += n;
  }
  return sum;
}

/**
 * Where the VM evidently runs among the destinations (see the file comment), the sources holding
 * `sourceSlots` of its flows (a number, or counted only when some destination may hold the VM).
 * Destinations that cannot count are logged, not concluded on.
 */
export async function findVmAtDestinations(o: {
  readonly devices: ReadonlyMap<string, DeviceApi>;
  readonly destinations: readonly string[];
  readonly vm: string;
  readonly sourceSlots: number | (() => Promise<number | undefined>);
  readonly before: Whereabouts;
  readonly logger: Logger;
}): Promise<VmSeenAt[]> {
  if (o.sourceSlots !== 0 && typeof o.sourceSlots === 'number') return [];
  const candidates = destinationCandidates(o.before, o.destinations);
  if (candidates.length === 0) return [];
  const sourceSlots = typeof o.sourceSlots === 'number' ? o.sourceSlots : await o.sourceSlots();
  if (sourceSlots !== 0) return [];
  const now = await countVmSlots(o.devices, candidates, o.vm, o.before, o.logger);
  for (const [d, n] of now) if (n === undefined) o.logger.warn('cannot tell whether the VM already runs at this destination: its slot index cannot count the VM\'s flows yet', { device: d, vm: o.vm });
  return vmSeenAtDestinations(sourceSlots, o.before, now);
}

/** The refusal of a VM whose control entry at `device` still marks a migration that did not finish (VmFootprint.unfinished). */
export function unfinishedMessage(device: string, vm: string, mark: NonNullable<VmFootprint['unfinished']>): string {
  const why = mark === 'frozen' ? 'frozen: the VM\'s traffic is dropped there' : mark === 'staged' ? 'staged: state a destination never activated' : 'its changes still tracked';
  return `${device}: ${vm}'s control entry still marks a migration (${why}) that its plugin is not running: one that did not finish (its plugin restarted, or its controller stopped) — run carryover recover with the journal of the controller that started it — or one another carryover process runs through its own plugin right now — wait for it`;
}

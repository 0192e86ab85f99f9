/**
 * What each target profile is expected to lack (DESIGN.md §4 "Targets differ", the lab's BMv2
 * report). A check that meets a missing feature the profile predicts is UNSUPPORTED (with the
 * target's own code and message); the same answer from a profile that should have the feature is
 * a FAIL. A feature a profile predicts missing that turns out present is a PASS.
 */

/** The target kinds hw-test knows. */
export type HwTestProfileName = 'bmv2' | 'stratum-tofino' | 'full';

/** All profile names, for validation and help. */
export const HW_TEST_PROFILE_NAMES: readonly HwTestProfileName[] = ['bmv2', 'stratum-tofino', 'full'];

/** One profile's predictions. */
export interface HwTestProfile {
  readonly name: HwTestProfileName;
  /** What the target is. */
  readonly describes: string;
  /** P4Runtime RegisterEntry reads and writes: served, or answered UNIMPLEMENTED. */
  readonly registerEntries: 'served' | 'unimplemented';
  /** Idle-timeout notifications for NOTIFY_CONTROL tables. */
  readonly idleTimeoutNotifications: boolean;
  /** Widest register cell P4Runtime can write (bits). */
  readonly registerMaxBits: number;
  /** The backend the plugin's probe is expected to pick. */
  readonly probedBackend: 'p4runtime' | 'inband';
  /** Whether a DigestEntry hw-test configured may be deleted again (BMv2: no, see digest-restore.ts). */
  readonly deletesDigestEntries: boolean;
}

const PROFILES: Readonly<Record<HwTestProfileName, HwTestProfile>> = Object.freeze({
  bmv2: Object.freeze({
    name: 'bmv2',
    describes: 'BMv2 simple_switch_grpc (PI)',
    registerEntries: 'unimplemented',
    idleTimeoutNotifications: true,
    registerMaxBits: Number.POSITIVE_INFINITY,
    probedBackend: 'inband',
    deletesDigestEntries: false,
  } satisfies HwTestProfile),
  'stratum-tofino': Object.freeze({
    name: 'stratum-tofino',
    describes: 'Tofino behind Stratum',
    registerEntries: 'served',
    idleTimeoutNotifications: false,
    registerMaxBits: 64,
    probedBackend: 'p4runtime',
    deletesDigestEntries: true,
  } satisfies HwTestProfile),
  full: Object.freeze({
    name: 'full',
    describes: 'a target that implements the P4Runtime specification in full',
    registerEntries: 'served',
    idleTimeoutNotifications: true,
    registerMaxBits: Number.POSITIVE_INFINITY,
    probedBackend: 'p4runtime',
    deletesDigestEntries: true,
  } satisfies HwTestProfile),
});

/** The predictions of a profile. */
export function hwTestProfile(name: HwTestProfileName): HwTestProfile {
  return PROFILES[name];
}

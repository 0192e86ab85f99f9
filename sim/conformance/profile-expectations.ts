/**
 * What each profile must answer where targets differ — the table the conformance suite asserts,
 * one row per difference (DESIGN.md §4; BMv2 rows from ../shared/lab/2026-11-24-bmv2-facts.md).
 */
import { status } from '@grpc/grpc-js';
import type { SimProfileName } from '../profiles.js';

/** One profile's expected answers. */
export interface ProfileExpectations {
  readonly apiVersion: string;
  /** Padded (non-canonical) bytestring that fits: accepted, or rejected with INVALID_ARGUMENT. */
  readonly paddedBytestrings: 'accepted' | 'rejected';
  /** Register read: served, or UNIMPLEMENTED with this message (after one empty ReadResponse). */
  readonly registerRead: { readonly kind: 'served' } | { readonly kind: 'unimplemented'; readonly message: string };
  /** Register write MODIFY: OK, or a per-update UNIMPLEMENTED with this message. */
  readonly registerWrite: { readonly kind: 'served' } | { readonly kind: 'unimplemented'; readonly message: string };
  /** ROLLBACK_ON_ERROR / DATAPLANE_ATOMIC: honoured, or UNIMPLEMENTED (message regex). */
  readonly atomicModes: { readonly kind: 'honoured' } | { readonly kind: 'unimplemented'; readonly message: RegExp };
  /** More than one ReadResponse for a large result (with readChunkSize 100). */
  readonly streamsLargeReads: boolean;
  /** After the primary leaves, the remaining lower id becomes primary. */
  readonly primaryIsHighestConnected: boolean;
  /** A controller in another role is primary of that role (roles honoured). */
  readonly rolesHonoured: boolean;
  /** Write to a device id nobody uses, with an election id. */
  readonly unknownDeviceWrite: { readonly code: number; readonly message: RegExp };
  /** GetForwardingPipelineConfig before any push. */
  readonly getWithoutPipeline: 'empty' | 'failed-precondition';
  /** Counter read beyond the array: top-level code and message. */
  readonly counterBeyondSize: { readonly code: number; readonly message: RegExp };
  readonly idleNotifications: boolean;
  /** time_since_last_hit for a 300 ms entry read at 700 ms. */
  readonly elapsedOf300msAt700: bigint;
  /** Digest lists honour max_timeout_ns (spec) or wait 200–300 ms (BMv2). */
  readonly digestTiming: 'spec' | 'bmv2-coarse';
  /** A Read of one unconfigured digest's DigestEntry: nothing, or NOT_FOUND "Digest <id> not configured" (BMv2, seen 2026-12-07). */
  readonly unconfiguredDigestRead: 'empty' | 'not-found';
  /** p4_device_config must be a BMv2 JSON. */
  readonly deviceConfigIsBmv2Json: boolean;
  /** Exact words for the lab-observed answers, where the profile must match them. */
  readonly words: {
    readonly entryExists: RegExp;
    readonly entryNotFound: RegExp;
    readonly notPrimary: RegExp;
    readonly noPipeline: RegExp;
    readonly invalidId: RegExp;
    readonly doesNotFit9: RegExp;
    readonly electionIdExists: RegExp;
    readonly isBackup: RegExp;
  };
}

const SPEC_WORDS = {
  entryExists: /^Match entry exists: .*use MODIFY/,
  entryNotFound: /^Cannot find match entry: /,
  notPrimary: /^Not primary: /,
  noPipeline: /^No forwarding pipeline config set for this device; push one/,
  invalidId: /^Invalid P4 id: table id 0x02009999 is not a table in the P4Info/,
  doesNotFit9: /^Bytestring provided does not fit within 9 bits: action 'EchoIngress.forward' parameter 'port' is 0x7fff$/,
  electionIdExists: /^Election id already exists: election id 10 is held by another live controller/,
  isBackup: /^Is backup$/,
};

/** The expectations per profile. */
export const PROFILE_EXPECTATIONS: Readonly<Record<SimProfileName, ProfileExpectations>> = {
  full: {
    apiVersion: '1.4.0',
    paddedBytestrings: 'accepted',
    registerRead: { kind: 'served' },
    registerWrite: { kind: 'served' },
    atomicModes: { kind: 'honoured' },
    streamsLargeReads: true,
    primaryIsHighestConnected: false,
    rolesHonoured: true,
    unknownDeviceWrite: { code: status.NOT_FOUND, message: /device id 7 is not known to this switch \(it is device 1\)/ },
    getWithoutPipeline: 'empty',
    counterBeyondSize: { code: status.UNKNOWN, message: /^Read failed: 1 of 1 requests failed; first #0: counter 'EchoIngress.port_counter': index 512 is out of range/ },
    idleNotifications: true,
    elapsedOf300msAt700: 700_000_000n,
    digestTiming: 'spec',
    unconfiguredDigestRead: 'empty',
    deviceConfigIsBmv2Json: false,
    words: SPEC_WORDS,
  },
  bmv2: {
    apiVersion: '1.3.0',
    paddedBytestrings: 'accepted',
    registerRead: { kind: 'unimplemented', message: 'Register reads are not supported yet' },
    registerWrite: { kind: 'unimplemented', message: 'Register writes are not supported yet' },
    atomicModes: { kind: 'unimplemented', message: /^Support for atomic write modes has not been implemented yet$/ },
    streamsLargeReads: false,
    primaryIsHighestConnected: true,
    rolesHonoured: false,
    unknownDeviceWrite: { code: status.PERMISSION_DENIED, message: /^Not primary$/ },
    getWithoutPipeline: 'failed-precondition',
    counterBeyondSize: { code: status.UNKNOWN, message: /^Error when reading counter from target$/ },
    idleNotifications: true,
    elapsedOf300msAt700: 300_000_000n,
    digestTiming: 'bmv2-coarse',
    unconfiguredDigestRead: 'not-found',
    deviceConfigIsBmv2Json: true,
    words: {
      entryExists: /^Match entry exists, use MODIFY if you wish to change action$/,
      entryNotFound: /^Cannot find match entry$/,
      notPrimary: /^Not primary$/,
      noPipeline: /^No forwarding pipeline config set for this device$/,
      invalidId: /^Invalid P4 id$/,
      doesNotFit9: /^Bytestring provided does not fit within 9 bits$/,
      electionIdExists: /^Election id already exists$/,
      isBackup: /^Is backup$/,
    },
  },
  'stratum-tofino': {
    apiVersion: '1.3.0',
    paddedBytestrings: 'accepted',
    registerRead: { kind: 'served' },
    registerWrite: { kind: 'served' },
    atomicModes: { kind: 'unimplemented', message: /^Atomicity (ROLLBACK_ON_ERROR|DATAPLANE_ATOMIC) is not supported by this target/ },
    streamsLargeReads: true,
    primaryIsHighestConnected: false,
    rolesHonoured: true,
    unknownDeviceWrite: { code: status.NOT_FOUND, message: /device id 7 is not known to this switch/ },
    getWithoutPipeline: 'empty',
    counterBeyondSize: { code: status.UNKNOWN, message: /index 512 is out of range/ },
    idleNotifications: false,
    elapsedOf300msAt700: 700_000_000n,
    digestTiming: 'spec',
    unconfiguredDigestRead: 'empty',
    deviceConfigIsBmv2Json: false,
    words: SPEC_WORDS,
  },
};

/**
 * The stateful_edge variants the tests build and migrate between (tests only): what
 * p4/include/defines.p4's -D options make (p4cDefines gives them).
 */
import { ctGeometry } from './ct-geometry.js';
import type { CtGeometry } from './ct-geometry.js';

/** Twice the committed slots with the hashes swapped: crc16 over 131,072 slots, then crc32 over 524,288. */
export const LARGER_VARIANT: CtGeometry = ctGeometry({ hash0: 'crc16', region0: 131072, hash1: 'crc32', region1: 524288 });

/** The committed sizes and hashes with ct_last_seen's cell 64 bits wide (`-DCT_LAST_SEEN_BITS=64`). */
export const WIDE_SEEN_VARIANT: CtGeometry = ctGeometry({ hash0: 'crc32', region0: 262144, hash1: 'crc16', region1: 65536, lastSeenBits: 64 });

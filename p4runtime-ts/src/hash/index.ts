/** BMv2's hash functions, bit for bit (see the lab's 2026-11-24 facts report). */
export { crc32 } from './crc32.js';
export { crc16 } from './crc16.js';
export { csum16 } from './csum16.js';
export {
  HASH_ALGORITHMS,
  isHashAlgorithm,
  parseHashAlgorithm,
  concatFields,
  hashBytes,
  applyBaseAndMax,
  bmv2Hash,
} from './bmv2-hash.js';
export type { HashAlgorithm, HashField } from './bmv2-hash.js';

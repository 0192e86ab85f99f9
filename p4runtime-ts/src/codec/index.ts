/** Internal barrel of the codec: canonical bytestrings, int<W>, addresses, match keys. */
export { encodeBits, decodeBits, decodeBitsAt, decodeBitsChecked, isCanonical, fitsWidth, canonicalize, bigintToBytes, checkBitwidth } from './bytes.js';
export { encodeInt, decodeInt, signedBitLength } from './int.js';
export {
  parseValue,
  formatValue,
  parseIPv4,
  formatIPv4,
  parseIPv6,
  formatIPv6,
  parseMac,
  formatMac,
  tryParseIPv4,
  tryParseIPv6,
  tryParseMac,
  tryParseNumeral,
  expectedForms,
} from './addr.js';
export type { ValueInput } from './addr.js';
export { encodeFieldMatch, decodeFieldMatch, matchValueToInput, formatMatchValue, prefixMask } from './match.js';
export type { MatchValue, MatchInput, MatchKind } from './match.js';

/**
 * The Internet checksum as BMv2's `HashAlgorithm.csum16` computes it: the ones' complement of the
 * ones' complement sum of big-endian 16-bit words, an odd trailing byte padded with a zero byte
 * (RFC 1071). Thirteen zero bytes give 0xFFFF; thirteen 0xFF bytes give 0x00FF (lab vectors).
 */

/** Ones' complement checksum of `bytes[start, end)`, as an unsigned 16-bit number. */
export function csum16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  if (i < end) sum += (bytes[i] ?? 0) << 8;
  // Fold carries; two rounds suffice for any length below 2^16 words, loop for the rest.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

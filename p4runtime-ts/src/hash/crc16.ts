/**
 * CRC-16/ARC as BMv2's `HashAlgorithm.crc16` computes it: reflected, polynomial 0x8005 (0xA001
 * reflected), initial value 0, no final XOR. Check value: "123456789" -> 0xBB3D.
 */

const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xa001 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** CRC-16/ARC of `bytes[start, end)`, as an unsigned 16-bit number. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = (TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return crc & 0xffff;
}

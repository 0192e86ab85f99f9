/**
 * Hashes real BMv2 (simple_switch_grpc 1.15, v1model HashAlgorithm) computed over 13-byte
 * 5-tuples (src 32, dst 32, sport 16, dport 16, proto 8 bits), measured by the project lab on
 * 2026-11-24 (lab report "bmv2-facts", file 2026-11-24-bmv2-hash-vectors.jsonl, copied verbatim).
 * They are facts about the target, kept in the repository as test data so that the tests and
 * hw-test's placement group never read anything outside it.
 */

/** One measured tuple and BMv2's answers for it. */
export interface Bmv2HashVector {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
  readonly crc32: number;
  readonly crc16: number;
  readonly crc32_mod_65536: number;
  readonly crc16_mod_1000: number;
  readonly csum16: number;
}

/** The 20 vectors, in the order the lab recorded them. */
export const BMV2_HASH_VECTORS: readonly Bmv2HashVector[] = Object.freeze([
  {src: 0, dst: 0, sport: 0, dport: 0, proto: 0, crc32: 259278466, crc16: 0, crc32_mod_65536: 18050, crc16_mod_1000: 0, csum16: 65535},
  {src: 4294967295, dst: 4294967295, sport: 65535, dport: 65535, proto: 255, crc32: 4074173377, crc16: 32513, crc32_mod_65536: 62401, crc16_mod_1000: 513, csum16: 255},
  {src: 167772165, dst: 3221225985, sport: 40000, dport: 443, proto: 6, crc32: 1467220089, crc16: 57372, crc32_mod_65536: 121, crc16_mod_1000: 372, csum16: 36861},
  {src: 3221225985, dst: 167772165, sport: 443, dport: 40000, proto: 6, crc32: 2061398115, crc16: 16717, crc32_mod_65536: 28771, crc16_mod_1000: 717, csum16: 36861},
  {src: 2361392350, dst: 2459778725, sport: 57280, dport: 53279, proto: 17, crc32: 1195368114, crc16: 39739, crc32_mod_65536: 57010, crc16_mod_1000: 739, csum16: 58429},
  {src: 42840489, dst: 736841460, sport: 11715, dport: 63558, proto: 6, crc32: 3072305278, crc16: 55249, crc32_mod_65536: 43134, crc16_mod_1000: 249, csum16: 42207},
  {src: 3302176616, dst: 3429118887, sport: 7386, dport: 18033, proto: 1, crc32: 1952714502, crc16: 19032, crc32_mod_65536: 3846, crc16_mod_1000: 32, csum16: 40812},
  {src: 591742411, dst: 1905615022, sport: 12341, dport: 33808, proto: 1, crc32: 460689748, crc16: 11356, crc32_mod_65536: 37204, crc16_mod_1000: 356, csum16: 3942},
  {src: 2601523138, dst: 3618206777, sport: 36932, dport: 24275, proto: 6, crc32: 358429415, crc16: 58328, crc32_mod_65536: 13031, crc16_mod_1000: 328, csum16: 3122},
  {src: 2848233085, dst: 3784664504, sport: 28087, dport: 28586, proto: 17, crc32: 61609196, crc16: 2104, crc32_mod_65536: 5356, crc16_mod_1000: 104, csum16: 35341},
  {src: 3411605612, dst: 1165662427, sport: 63614, dport: 50629, proto: 17, crc32: 2185267070, crc16: 104, crc32_mod_65536: 34686, crc16_mod_1000: 104, csum16: 36511},
  {src: 2547680319, dst: 3982476434, sport: 6857, dport: 26004, proto: 1, crc32: 2894156504, crc16: 39432, crc32_mod_65536: 21208, crc16_mod_1000: 432, csum16: 45205},
  {src: 2476304358, dst: 1367565, sport: 26632, dport: 27591, proto: 1, crc32: 1894644267, crc16: 22949, crc32_mod_65536: 64043, crc16_mod_1000: 949, csum16: 20878},
  {src: 4098741137, dst: 1339520956, sport: 61419, dport: 50254, proto: 17, crc32: 3010054750, crc16: 46631, crc32_mod_65536: 51806, crc16_mod_1000: 631, csum16: 43857},
  {src: 2229979312, dst: 562119759, sport: 58722, dport: 42329, proto: 6, crc32: 813364597, crc16: 3605, crc32_mod_65536: 62837, crc16_mod_1000: 605, csum16: 48087},
  {src: 1512787187, dst: 2500177334, sport: 18845, dport: 15960, proto: 1, crc32: 1635758931, crc16: 14463, crc32_mod_65536: 45907, crc16_mod_1000: 463, csum16: 36143},
  {src: 3019239754, dst: 3997806625, sport: 2828, dport: 19195, proto: 6, crc32: 2127910341, crc16: 1379, crc32_mod_65536: 21957, crc16_mod_1000: 379, csum16: 24652},
  {src: 2302467301, dst: 115763456, sport: 18527, dport: 31282, proto: 6, crc32: 1664475733, crc16: 59435, crc32_mod_65536: 57941, crc16_mod_1000: 435, csum16: 24933},
  {src: 490327092, dst: 2966358531, sport: 42886, dport: 55597, proto: 17, crc32: 3028645475, crc16: 10800, crc32_mod_65536: 30307, crc16_mod_1000: 800, csum16: 51722},
  {src: 2024911847, dst: 3165790234, sport: 61617, dport: 45660, proto: 1, crc32: 247822666, crc16: 54021, crc32_mod_65536: 31050, crc16_mod_1000: 21, csum16: 21131},
]);

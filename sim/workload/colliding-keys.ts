/**
 * Flow keys that share all four candidate slots of stateful_edge, so a test can fill a bucket
 * pair and make the next new flow collide. CRC-32 and CRC-16 are affine over GF(2) for inputs of
 * one length, so the bits that pick the two buckets (17 of crc32, 15 of crc16) are an affine
 * function of the key bits; keys differing from a base key by a vector of that function's null
 * space land in the same buckets. The free bits are the remote address's last octet and both ports.
 */
import { candidateSlots, flowKeyBytes } from '../programs/stateful-edge/placement.js';
import type { FlowKey } from '../programs/stateful-edge/placement.js';
import { crc16, crc32 } from 'p4runtime-ts';
import { CT_REGION0_BUCKETS, CT_REGION1_BUCKETS } from '../programs/stateful-edge/layout.js';
import type { Prng } from './prng.js';

const FREE_BITS = 40; // remote_addr[7:0], vm_port, remote_port

/** The 32 bits that choose both buckets: crc32 mod 2^17 and crc16 mod 2^15 side by side. */
function bucketBits(key: FlowKey): number {
  const b = flowKeyBytes(key);
  return ((crc32(b) % CT_REGION0_BUCKETS) | ((crc16(b) % CT_REGION1_BUCKETS) * CT_REGION0_BUCKETS)) >>> 0;
}

/** The key with free bit i flipped for every bit i set in `d`. */
function flip(key: FlowKey, d: bigint): FlowKey {
  const part = (shift: bigint, width: bigint): number => Number((d >> shift) & ((1n << width) - 1n));
  return {
    ...key,
    remoteAddr: (key.remoteAddr ^ part(0n, 8n)) >>> 0,
    vmPort: key.vmPort ^ part(8n, 16n),
    remotePort: key.remotePort ^ part(24n, 16n),
  };
}

/** A basis of the flip vectors that leave both buckets unchanged. */
function nullSpace(base: FlowKey): bigint[] {
  const v0 = bucketBits(base);
  const basis = new Map<number, { vec: number; mask: bigint }>();
  const out: bigint[] = [];
  for (let i = 0; i < FREE_BITS; i++) {
    let vec = (bucketBits(flip(base, 1n << BigInt(i))) ^ v0) >>> 0;
    let mask = 1n << BigInt(i);
    for (let bit = 31; bit >= 0 && vec !== 0; bit--) {
      const p = basis.get(bit);
      if (p && (vec >>> bit) & 1) {
        vec = (vec ^ p.vec) >>> 0;
        mask ^= p.mask;
      }
    }
    if (vec === 0) out.push(mask);
    else basis.set(31 - Math.clz32(vec), { vec, mask });
  }
  return out;
}

/**
 * `count` distinct keys (the base first) whose candidate slots all equal the base key's; the
 * remote address stays in base's /24 (last octet 1..254), ports stay >= 1024.
 */
export function collidingKeys(base: FlowKey, count: number, prng: Prng): FlowKey[] {
  const space = nullSpace(base);
  const want = candidateSlots(base).join(',');
  const seen = new Set<string>();
  const out: FlowKey[] = [];
  const add = (k: FlowKey): void => {
    const id = `${k.remoteAddr}:${k.vmPort}:${k.remotePort}`;
    const octet = k.remoteAddr & 0xff;
    if (seen.has(id) || octet === 0 || octet === 255 || k.vmPort < 1024 || k.remotePort < 1024) return;
    if (candidateSlots(k).join(',') !== want) throw new Error('collidingKeys: internal error, a solved key lands elsewhere');
    seen.add(id);
    out.push(k);
  };
  add(base);
  for (let tries = 0; out.length < count && tries < 100_000; tries++) {
    let d = 0n;
    for (const v of space) if (prng.chance(0.5)) d ^= v;
    add(flip(base, d));
  }
  if (out.length < count) throw new Error(`collidingKeys: found ${out.length} of ${count} keys sharing the base key's slots; choose another base key`);
  return out;
}

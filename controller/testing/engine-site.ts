/**
 * The inventory the engine's unit tests plan from — sources `src` (host-a, where vm-7 runs) and
 * `src2` (host-d), destination `dst` (host-b), and `c1`/`c2` behind host-c, placed by an ECMP
 * hash — and the flows they move (fields as the fake device API keeps them).
 */
import { Subject } from 'rxjs';
import type { PrecopyRound } from '../engine/engine-types.js';
import { parseInventory } from '../inventory/load-inventory.js';
import type { Inventory } from '../inventory/inventory.js';

/** The site's YAML. */
export const ENGINE_TEST_SITE = `
devices:
  src: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }
  src2: { address: 127.0.0.1:5, deviceId: 1, hosts: [host-d] }
  dst: { address: 127.0.0.1:2, deviceId: 1, hosts: [host-b] }
  c1: { address: 127.0.0.1:3, deviceId: 1, hosts: [host-c] }
  c2: { address: 127.0.0.1:4, deviceId: 1, hosts: [host-c] }
hosts:
  host-c: { placement: ecmp }
placement:
  ecmp: { kind: hash, algorithm: crc32, fields: [vm_addr, remote_addr, vm_port, remote_port, protocol], devices: [c1, c2] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

/** The site, parsed. */
export function engineTestInventory(): Inventory {
  return parseInventory(ENGINE_TEST_SITE, 'site.yaml');
}

/** Flow `i` of vm-7 (TCP to 198.51.100.i:443) in TCP state `state`. */
export const engineTestFlow = (i: number, state = 3n): Record<string, bigint> => ({ vm_addr: 0x0a000005n, remote_addr: 0xc6336400n + BigInt(i), vm_port: 40000n + BigInt(i), remote_port: 443n, protocol: 6n, state });

/** Pre-copy for `ms` of real time (the snapshot staged, deltas subscribed), then stopped as a pause would; resolves its rounds. */
export async function precopyFor(engine: { precopy(stop$: Subject<void>): Promise<PrecopyRound[]> }, ms = 20): Promise<PrecopyRound[]> {
  const stop$ = new Subject<void>();
  const running = engine.precopy(stop$);
  await new Promise((r) => setTimeout(r, ms));
  stop$.next();
  return running;
}

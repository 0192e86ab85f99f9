/**
 * Slots and fields for people: addresses dotted, connection states by name, a slot summed up in
 * one line ("10.250.0.5:40001 ↔ 198.18.0.7:443 tcp ESTABLISHED, vm 1001"). Field names come from
 * the contract's @migrate_layout; only the renderings know stateful_edge's conventions.
 */
import { decodeSlotFields, fieldValue } from '../plugin/index.js';
import type { SlotGroupSpec } from '../plugin/index.js';
import { CtState } from '../sim/programs/stateful-edge/index.js';

const STATE_NAMES = new Map<number, string>(Object.entries(CtState).map(([k, v]) => [v, k]));

/** A 32-bit address as dotted quad. */
export function formatIpv4Number(v: number | bigint): string {
  const n = Number(BigInt(v) & 0xffffffffn);
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** One field's value in its most readable form. */
export function formatField(name: string, bits: number, value: bigint): string {
  if (bits === 32 && name.endsWith('_addr')) return formatIpv4Number(value);
  if (name === 'state') return `${STATE_NAMES.get(Number(value)) ?? 'STATE'} (${value})`;
  if (name === 'protocol') return value === 6n ? 'tcp (6)' : value === 17n ? 'udp (17)' : String(value);
  if (name === 'flags') return `0x${value.toString(16)}`;
  return String(value);
}

/** A slot in one line: the flow, its state and VM, or `empty`. */
export function describeSlot(group: SlotGroupSpec, words: readonly bigint[] | undefined): string {
  if (!words || fieldValue(words, group.valid) === 0n) return 'empty';
  const f = decodeSlotFields(group, words);
  const proto = f.protocol === 6n ? 'tcp' : f.protocol === 17n ? 'udp' : `proto ${f.protocol ?? 0n}`;
  const state = f.state === undefined ? '' : ` ${STATE_NAMES.get(Number(f.state)) ?? `state ${f.state}`}`;
  const flow = f.vm_addr !== undefined && f.remote_addr !== undefined ? `${formatIpv4Number(f.vm_addr)}:${f.vm_port ?? 0n} ↔ ${formatIpv4Number(f.remote_addr)}:${f.remote_port ?? 0n} ${proto}` : proto;
  return `${flow}${state}, vm ${fieldValue(words, group.vm)}`;
}

/**
 * Capability negotiation's explanation: what differs between two devices' slot-group schemas, in
 * the operator's terms — a register missing on one side, or the same register (or flow-key field)
 * at two widths — so a refused pair says which register and which widths, not two fingerprints.
 */
import type { DeviceCapabilities } from './device-api.js';

type Named = readonly { readonly name: string; readonly bits: number }[];

function differences(kind: string, a: Named, b: Named, an: string, bn: string): string[] {
  const out: string[] = [];
  const bm = new Map(b.map((x) => [x.name, x.bits]));
  const am = new Map(a.map((x) => [x.name, x.bits]));
  for (const x of a) {
    const other = bm.get(x.name);
    if (other === undefined) out.push(`${kind} '${x.name}' (${x.bits} bits) exists at ${an}, not at ${bn}`);
    else if (other !== x.bits) out.push(`${kind} '${x.name}' is ${x.bits} bits at ${an} but ${other} bits at ${bn}`);
  }
  for (const x of b) if (!am.has(x.name)) out.push(`${kind} '${x.name}' (${x.bits} bits) exists at ${bn}, not at ${an}`);
  return out;
}

/** What differs between the schemas of `a` and `b` (empty when nothing the capabilities show). */
export function schemaDifferences(a: DeviceCapabilities, b: DeviceCapabilities): string[] {
  return [
    ...(a.registers && b.registers ? differences('register', a.registers, b.registers, a.device, b.device) : []),
    ...differences('flow-key field', a.keyFields, b.keyFields, a.device, b.device),
  ];
}

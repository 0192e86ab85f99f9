/**
 * A P4Info's registers as a program sees them at instantiation (program.ts, ProgramRegister): by
 * alias, with sizes, cell widths and annotations as p4c wrote them.
 */
import type { p4 } from 'p4runtime-ts/proto';
import type { ProgramRegister } from './program.js';

/** The registers of `p4info` for `SimProgram.instantiate` (a bit<W> cell gives its width, anything else none). */
export function programRegisters(p4info: p4.config.v1.P4Info.$Properties): ProgramRegister[] {
  return (p4info.registers ?? []).map((r) => ({
    name: r.preamble?.alias || (r.preamble?.name ?? ''),
    size: r.size ?? 0,
    bitwidth: r.typeSpec?.bitstring?.bit?.bitwidth ?? undefined,
    annotations: [...(r.preamble?.annotations ?? [])],
  }));
}

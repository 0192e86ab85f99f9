/**
 * Programs by name. A pipeline push selects the behavioural model by `--program`, else the BMv2
 * JSON's program name, else the P4Info's `pkg_info.name`; a name nobody registered gets the null
 * program (P4Runtime state works, every packet is dropped).
 */
import type { ProgramInstance, SimProgram } from '../program.js';

const registry = new Map<string, SimProgram>();

/** `dir/l2_echo.p4i` -> `l2_echo`: what is left of a program name after paths and extensions. */
export function normalizeProgramName(name: string): string {
  const base = name.trim().split(/[\\/]/).pop() ?? '';
  return base.replace(/\.(p4info\.txtpb|p4info\.txt|p4info\.pb|p4info|p4i|p4|json)$/i, '');
}

/** Registers a program under its (normalized) name; registering another program under a taken name throws. */
export function registerProgram(program: SimProgram): void {
  const key = normalizeProgramName(program.name);
  if (key === '') throw new Error('registerProgram: the program has an empty name');
  const existing = registry.get(key);
  if (existing && existing !== program) throw new Error(`registerProgram: a different program is already registered as '${key}'`);
  registry.set(key, program);
}

/** The program registered under `name` (any path or extension ignored), if any. */
export function findProgram(name: string): SimProgram | undefined {
  return registry.get(normalizeProgramName(name));
}

/** Names of every registered program, sorted. */
export function registeredProgramNames(): string[] {
  return [...registry.keys()].sort();
}

class DropAll implements ProgramInstance {
  process(): { readonly kind: 'drop'; readonly reason: string } {
    return { kind: 'drop', reason: 'no behavioural model for this program (null program)' };
  }
}

/** The program used when no registered program matches: it drops every packet. */
export const NULL_PROGRAM: SimProgram = { name: '(none)', instantiate: () => new DropAll() };

/**
 * Registers the programs that ship with the sim. Importing this module is enough; the switch
 * does so itself.
 */
import { L2_ECHO_PROGRAM } from './l2-echo/l2-echo.js';
import { registerProgram } from './registry.js';

registerProgram(L2_ECHO_PROGRAM);

/** Names of the built-in programs. */
export const BUILTIN_PROGRAMS: readonly string[] = [L2_ECHO_PROGRAM.name];

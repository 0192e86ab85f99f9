/**
 * Registers the programs that ship with the sim. Importing this module is enough; the switch
 * does so itself.
 */
import { L2_ECHO_PROGRAM } from './l2-echo/l2-echo.js';
import { registerProgram } from './registry.js';
import { statefulEdgeProgram } from './stateful-edge/index.js';

registerProgram(L2_ECHO_PROGRAM);
registerProgram(statefulEdgeProgram);

/** Names of the built-in programs. */
export const BUILTIN_PROGRAMS: readonly string[] = [L2_ECHO_PROGRAM.name, statefulEdgeProgram.name];

#!/usr/bin/env node
// The `carryover` command. Sources are TypeScript run through tsx, so a clean clone needs no build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

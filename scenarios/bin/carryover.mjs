#!/usr/bin/env node
// The `carryover` command. It runs the JavaScript built from the sources (build/, made by
// `npm install` through the `prepare` script, or `npm run build`), so no TypeScript compiler runs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = join(root, 'build', 'scenarios', 'cli', 'main.js');
if (!existsSync(entry) || !existsSync(join(root, 'p4runtime-ts', 'dist', 'index.js'))) {
  console.error(`carryover: the built command is missing (${entry}); run \`npm run build\` (or \`npm install\`) in ${root} first`);
  process.exit(2);
}
// Before anything else loads: the modules loaded from here on are compiled eagerly, so a
// migration's first pause-window sync does not compile its code while the VM is stopped
// (build/scenarios/cli/eager-compile.js; CARRYOVER_EAGER_COMPILE=0 turns it off).
const { applyCompileMode, CompileModeError } = await import(pathToFileURL(join(root, 'build', 'scenarios', 'cli', 'eager-compile.js')).href);
try {
  applyCompileMode(process.env);
} catch (e) {
  if (!(e instanceof CompileModeError)) throw e;
  console.error(`carryover: ${e.message}`);
  process.exit(2);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
// The command has closed what it opened. A connection that never completed its TLS handshake (a
// peer that accepts TCP and says nothing) can still keep Node's event loop alive: the verdict is
// out, so do not wait for it (field walkthrough 22: the process never exited). Unref'd, this
// timer ends nothing that would end by itself.
setTimeout(() => process.exit(), 1_000).unref();

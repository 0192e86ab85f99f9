#!/usr/bin/env node
// Builds what the `carryover` command runs: p4runtime-ts into p4runtime-ts/dist (its own build),
// then sim, plugin, controller, hw-test and scenarios into build/ (tsc emit without type checking:
// `npm test` typechecks; this only has to be fast and always produce the JavaScript), then the data
// files the code reads next to itself (P4Info text, P4 sources), so paths relative to a module hold
// in build/ as in the sources. Runs in `npm install` (the root `prepare` script) and `npm test`.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'build');
const FOLDERS = ['p4', 'sim', 'plugin', 'controller', 'hw-test', 'scenarios'];
const ASSET = /\.(txtpb|p4|json)$/;

const fail = (msg) => {
  console.error(`carryover build: ${msg}`);
  process.exit(1);
};
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  fail('the TypeScript compiler is not installed; run `npm install` (dev dependencies included) in the repository');
}
const run = (args, what, partial) => {
  try {
    execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  } catch {
    if (partial) rmSync(partial, { recursive: true, force: true });
    fail(`${what} failed (errors above)`);
  }
};

run([join(root, 'p4runtime-ts', 'scripts', 'build.mjs')], 'building p4runtime-ts');
// Built beside the old build/ and swapped in, so a command starting meanwhile sees one or the other.
const next = join(root, `.build-${process.pid}`);
rmSync(next, { recursive: true, force: true });
run([tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', next], 'compiling the CLI (tsconfig.build.json)', next);

function* assets(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* assets(p);
    else if (ASSET.test(name)) yield p;
  }
}
for (const folder of FOLDERS) {
  const dir = join(root, folder);
  try {
    statSync(dir);
  } catch {
    continue;
  }
  for (const file of assets(dir)) cpSync(file, join(next, relative(root, file)));
}
const old = join(root, `.build-old-${process.pid}`);
if (existsSync(out)) renameSync(out, old);
renameSync(next, out);
rmSync(old, { recursive: true, force: true });

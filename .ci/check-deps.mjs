#!/usr/bin/env node
// Dependency-direction check (DESIGN.md §2). Reads every TypeScript import in the tree and fails
// when a folder imports one it may not, or reaches into p4runtime-ts other than by its package name.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// folder -> folders it may import (itself always allowed). p4/ holds data every layer may read.
const ALLOWED = {
  'p4runtime-ts': [],
  p4: [],
  sim: ['p4runtime-ts', 'p4'],
  plugin: ['p4runtime-ts', 'p4'],
  controller: ['p4runtime-ts', 'plugin', 'p4'],
  'hw-test': ['p4runtime-ts', 'p4', 'sim', 'plugin', 'controller'],
  scenarios: ['p4runtime-ts', 'p4', 'sim', 'plugin', 'controller', 'hw-test'],
};
// Tests may also read the repository's measured target data (p4/testdata); shipped code may not.
const TEST_ALLOWED = { 'p4runtime-ts': ['p4'] };
const PACKAGES = { 'p4runtime-ts': 'p4runtime-ts' };
const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'gen' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield p;
  }
}

const topOf = (abs) => relative(root, abs).split(sep)[0];
const violations = [];
let files = 0;
for (const folder of Object.keys(ALLOWED)) {
  let exists = true;
  try { statSync(join(root, folder)); } catch { exists = false; }
  if (!exists) continue;
  for (const file of walk(join(root, folder))) {
    files++;
    const text = readFileSync(file, 'utf8');
    // A clone with nothing beside it must run and test: no code reaches outside the repository.
    for (const [i, line] of text.split('\n').entries()) {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
      if (/['"`]\.\.\/shared\b|['"`]shared['"`]/.test(line)) violations.push(`${relative(root, file)}:${i + 1}: reads the shared directory beside the clone, outside the repository; keep the data in the repository (p4/testdata)`);
    }
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec) continue;
      let target;
      if (spec.startsWith('.')) {
        target = topOf(resolve(dirname(file), spec));
        if (target !== folder && target === 'p4runtime-ts') {
          violations.push(`${relative(root, file)}: imports p4runtime-ts internals by path ('${spec}'); import 'p4runtime-ts' instead`);
          continue;
        }
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        target = PACKAGES[pkg];
        if (!target) continue; // a third-party or node: module
      }
      if (target === folder) continue;
      const isTest = /\.test\.(ts|mts|js|mjs)$/.test(file);
      if (isTest && (TEST_ALLOWED[folder] ?? []).includes(target) && spec.includes('/p4/testdata/')) continue;
      if (!(ALLOWED[folder] ?? []).includes(target)) {
        violations.push(`${relative(root, file)}: ${folder}/ may not import ${target}/ ('${spec}')`);
      }
    }
  }
}
if (violations.length > 0) {
  console.error(`dependency direction: ${violations.length} violation(s) (see DESIGN.md §2)`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log(`dependency direction: ok (${files} files)`);

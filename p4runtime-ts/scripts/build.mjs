// Builds the package: JavaScript and declaration files under dist/ (tsc with tsconfig.build.json),
// plus the protobufjs static code and descriptor, which are JavaScript and JSON already and are
// copied as they are. Run by `npm run build`, by `npm pack` (prepack) and by the repository's build.
// The new dist/ is built beside the old one and swapped in, so a process starting meanwhile (the
// carryover command, a test) never finds it half-written.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(join(pkg, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('p4runtime-ts build: the TypeScript compiler is not installed; run `npm install` (with dev dependencies) first');
  process.exit(1);
}
const dist = join(pkg, 'dist');
const next = join(pkg, `.dist-${process.pid}`);
rmSync(next, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.build.json'), '--outDir', next], { stdio: 'inherit' });
} catch {
  rmSync(next, { recursive: true, force: true });
  console.error('p4runtime-ts build: tsc failed (errors above)');
  process.exit(1);
}
const gen = join(next, 'proto', 'gen');
mkdirSync(gen, { recursive: true });
for (const f of ['p4runtime.js', 'p4runtime.d.ts', 'descriptor.json']) cpSync(join(pkg, 'src', 'proto', 'gen', f), join(gen, f));
const old = join(pkg, `.dist-old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });

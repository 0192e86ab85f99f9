#!/usr/bin/env node
// Regenerates the migration protocol's descriptor (gen/migration.json) from migration.proto.
// The output is committed, so a clean clone needs no code generation step; a test checks that it
// is current. JSON (not static code) because the build copies .json assets beside the modules.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pbjs = join(here, '..', '..', 'node_modules', '.bin', 'pbjs');
execFileSync(pbjs, ['-t', 'json', '-p', here, '-o', join(here, 'gen', 'migration.json'), join(here, 'migration.proto')], { stdio: 'inherit' });

#!/usr/bin/env node
// Regenerates the federation descriptor (gen/federation.json) from federation.proto and the
// migration protocol it imports. The output is committed (a test checks it is current); JSON
// because the build copies .json assets beside the modules.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pbjs = join(here, '..', '..', 'node_modules', '.bin', 'pbjs');
execFileSync(pbjs, ['-t', 'json', '-p', here, '-p', join(here, '..', '..', 'plugin', 'protocol'), '-o', join(here, 'gen', 'federation.json'), join(here, 'federation.proto')], { stdio: 'inherit' });

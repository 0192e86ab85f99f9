// Regenerates the protobufjs static code and descriptor from our .proto files.
// The output is committed, so a clean clone needs no code generation step.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const protos = [
  'p4/v1/p4runtime.proto',
  'p4/v1/p4data.proto',
  'p4/config/v1/p4info.proto',
  'p4/config/v1/p4types.proto',
  'google/rpc/status.proto',
  'google/protobuf/any.proto',
];
const out = join(pkg, 'src/proto/gen');
const pbjs = join(pkg, '..', 'node_modules', '.bin', 'pbjs');
const common = ['-p', join(pkg, 'proto'), ...protos.map((p) => join(pkg, 'proto', p))];
execFileSync(pbjs, ['-t', 'static-module', '-w', 'esm', '--dependency', 'protobufjs/minimal.js',
  '--no-delimited', '--no-verify', '--no-typeurl', '-d', '-o', join(out, 'p4runtime.js'), ...common], { stdio: 'inherit' });
execFileSync(pbjs, ['-t', 'json', '-o', join(out, 'descriptor.json'), ...common], { stdio: 'inherit' });

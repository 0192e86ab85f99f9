/**
 * p4runtime-ts as a user gets it: `npm pack` makes the tarball, an empty Node project installs it
 * from that file (its runtime dependencies come from the registry, as for any user), and plain
 * Node runs a JavaScript consumer against a real P4Runtime server (`carryover sim` in its own
 * process on 127.0.0.1:0) while `tsc` typechecks the same consumer written in TypeScript. Nothing
 * of the repository is on the consumer's module path: no tsx, no dev dependencies, no sources.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimProcess } from '../bench/sim-process.js';
import type { SimProcess } from '../bench/sim-process.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = join(ROOT, 'p4runtime-ts');
const P4INFO = join(ROOT, 'sim', 'programs', 'l2-echo', 'l2_echo.p4info.txtpb');
const TSC = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
const exec = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// One consumer, in JavaScript (run) and TypeScript (typechecked): builds a schema from a P4Info,
// encodes an update without a switch, then writes it to a real server and reads it back by name.
const CONSUMER_BODY = (ts: boolean): string => `
import { readFileSync } from 'node:fs';
import { P4RuntimeError, P4Schema, P4Switch, TableHandle, describeUpdate } from 'p4runtime-ts';
${ts ? "import type { TableEntryRead } from 'p4runtime-ts';\n" : ''}import { p4 } from 'p4runtime-ts/proto';

const [address, p4infoPath] = process.argv.slice(2);
const schema = P4Schema.fromText(readFileSync(p4infoPath${ts ? ' ?? ""' : ''}, 'utf8'), p4infoPath);
const update = new TableHandle(schema.table('mac_fwd')).insert({ match: { dst_addr: '02:00:00:00:00:07' }, action: 'forward', params: { port: 3 } });
const encoded = p4.v1.WriteRequest.encode({ deviceId: 1, updates: [{ type: update.type, entity: update.entity }] }).finish();
let refused = '';
try {
  new TableHandle(schema.table('mac_fwd')).insert({ match: { dst_addr: '02:00:00:00:00:07' }, action: 'forward', params: { port: 1n << 20n } });
} catch (e) {
  refused = e instanceof P4RuntimeError ? e.code : 'not a P4RuntimeError';
}
const out${ts ? ': Record<string, unknown>' : ''} = { described: describeUpdate(schema, update), encodedBytes: encoded.length, refused };
if (address) {
  const sw = await P4Switch.connect({ address, deviceId: 1n });
  try {
    await sw.waitForPrimary();
    out.pushed = (await sw.ensurePipeline({ schema, deviceConfig: new Uint8Array() })).pushed;
    await sw.write([update, sw.table('mac_fwd').insert({ match: { dst_addr: 0x020000000008n }, action: 'to_cpu' })]);
    const rows${ts ? ': TableEntryRead[]' : ''} = await sw.readAll(sw.table('mac_fwd').all());
    out.read = rows
      .map((r) => {
        const m = r.match['hdr.ethernet.dst_addr'];
        return { action: r.action, dst: m && m.kind === 'exact' ? m.value.toString(16) : '', port: String(r.params.port ?? '') };
      })
      .sort((a, b) => a.dst.localeCompare(b.dst));
  } finally {
    await sw.close();
  }
}
${ts ? "// The types are real, not `any`: a wrong type is an error.\n// @ts-expect-error deviceId is a number or bigint\nvoid P4Switch.connect({ address: 'x:1', deviceId: 'one' });\n" : ''}console.log(JSON.stringify(out));
`;

describe('p4runtime-ts package', () => {
  let dir = '';
  let consumer = '';
  let tarball = '';
  let sim: SimProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'p4runtime-ts-pack-'));
    // `npm pack` runs the package's prepack (its build), as publishing would.
    const { stdout } = await exec(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: PKG, maxBuffer: 16 << 20 });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack printed no package: ${stdout}`);
    tarball = join(dir, info.filename);
    consumer = join(dir, 'consumer');
    cpSync(P4INFO, join(consumer, 'l2_echo.p4info.txtpb'));
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    await exec(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@types/node@20'], { cwd: consumer, maxBuffer: 16 << 20 });
    writeFileSync(join(consumer, 'consumer.mjs'), CONSUMER_BODY(false));
    writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_BODY(true));
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, files: ['consumer.ts'] }),
    );
    sim = await startSimProcess(['--profile', 'full', '--program', 'l2_echo', '--device-id', '1']);
  }, 180_000);

  afterAll(async () => {
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('p4runtime-ts package — the tarball holds the build, declarations, README and CHANGELOG, and no sources or tests', async () => {
    const { stdout } = await exec('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/proto/index.js', 'dist/proto/gen/p4runtime.js', 'dist/proto/gen/descriptor.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('src/') || /\.test\.|testing\//.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', 'p4runtime-ts', 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['description', 'keywords', 'license', 'repository', 'engines', 'files', 'exports']) expect(manifest[key], key).toBeDefined();
  });

  it('p4runtime-ts package — installed alone, plain Node runs a consumer: schema, encoding, and a write and read on a real server', { timeout: 60_000 }, async () => {
    const { stdout } = await exec(process.execPath, ['consumer.mjs', sim?.address ?? '', 'l2_echo.p4info.txtpb'], { cwd: consumer });
    const out = JSON.parse(stdout) as { described: string; encodedBytes: number; refused: string; pushed: boolean; read: unknown[] };
    expect(out.described).toBe('INSERT table EchoIngress.mac_fwd {hdr.ethernet.dst_addr=02:00:00:00:00:07} → forward(port=3)');
    expect(out.encodedBytes).toBeGreaterThan(20);
    expect(out.refused).toBe('VALUE_RANGE');
    expect(out.pushed).toBe(true);
    expect(out.read).toEqual([
      { action: 'EchoIngress.forward', dst: '20000000007', port: '3' },
      { action: 'EchoIngress.to_cpu', dst: '20000000008', port: '' },
    ]);
    // What ran is the tarball's JavaScript, not the repository's TypeScript.
    const installed = readFileSync(join(consumer, 'node_modules', 'p4runtime-ts', 'package.json'), 'utf8');
    expect(JSON.parse(installed)).toMatchObject({ exports: { '.': { default: './dist/index.js' } } });
  });

  // Without skipLibCheck, so the shipped declarations themselves are checked (≈15 s of tsc).
  it('p4runtime-ts package — a TypeScript consumer typechecks against the shipped declarations (NodeNext, strict)', { timeout: 120_000 }, async () => {
    const r = await exec(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: consumer }).then(
      () => ({ code: 0, out: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });
});

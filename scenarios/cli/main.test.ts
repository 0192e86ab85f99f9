import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'carryover.mjs');
const run = async (args: string[], timeout = 60_000, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { timeout, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

describe('carryover CLI', () => {
  it('cli — lists every subcommand of DESIGN §9 in its help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'sim', 'plugin', 'migrate', 'hw-test', 'bench']) expect(r.stdout).toContain(c);
  });

  it('cli — the help names every bench suite that bench --help lists, and both tables keep their summaries in one column', async () => {
    const top = (await run(['--help'])).stdout;
    const bench = (await run(['bench', '--help'])).stdout;
    const suites = bench.split('\nsuites:\n')[1]?.split('\n\n')[0]?.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '') ?? [];
    expect(suites).toEqual(expect.arrayContaining(['p4rt', 'migrate', 'first-pause', 'qemu']));
    const benchLine = top.split('\n').find((l) => l.trim().startsWith('bench ')) ?? '';
    for (const s of suites) expect(benchLine).toContain(` ${s} `);
    const column = (table: string): Set<number | undefined> => new Set(table.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => /^ {2}\S+\s+/.exec(l)?.[0].length));
    expect(column(top.split('\ncommands:\n')[1]?.split('\n\n')[0] ?? '').size).toBe(1);
    expect(column(bench.split('\nsuites:\n')[1]?.split('\n\n')[0] ?? '').size).toBe(1);
  });

  it('cli — migrate without its required flags is a usage error naming them, and does nothing', async () => {
    const r = await run(['migrate', '--vm', 'vm1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --config, --from, --to/);
  });

  it('cli — an unknown command is a usage error naming it', async () => {
    const r = await run(['teleport']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'teleport'");
  });

  it('cli — a misspelt command or flag names the nearest one, exit 2', async () => {
    const a = await run(['migrat']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("unknown command 'migrat'; did you mean 'migrate'?");
    const b = await run(['demo', '--flowz', '5']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/Unknown option '--flowz'; did you mean --flows\? \(see 'carryover demo --help'\)/);
    const c = await run(['demo', '--flows', '-5']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--flows -5: expected/);
  });

  it('cli — bench rejects an unknown suite without running anything', async () => {
    const r = await run(['bench', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown suite\(s\) nosuch/);
  });

  it('cli — bench lists the migrate suite and refuses --sizes that are not ascending flow counts, running nothing', async () => {
    const help = await run(['bench', '--help']);
    expect(help.stdout).toMatch(/migrate\s+the engine's pause-window sync/);
    const r = await run(['bench', 'migrate', '--sizes', '100000,10000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--sizes '100000,10000' is not a list of at most 4 ascending integers");
    for (const bad of ['-1', '', '2.5', 'some', '100001']) {
      const c = await run(['bench', 'migrate', `--changed=${bad}`]);
      expect(c.code).toBe(2);
      expect(c.stderr).toContain(`--changed '${bad}' is not an integer 0..100000`);
    }
    for (const bad of ['-5', '1.5', 'soon', '60001']) {
      const q = await run(['bench', 'migrate', `--quiet-ms=${bad}`]);
      expect(q.code).toBe(2);
      expect(q.stderr).toContain(`--quiet-ms '${bad}' is not an integer 0..60000`);
    }
    // Eleven processes started one after the other: slow on a loaded machine.
  }, 120_000);

  it('cli — bench migrate --profiles names only full, bmv2, real-bmv2, and real-bmv2 needs CARRYOVER_BMV2, running nothing', async () => {
    const p = await run(['bench', 'migrate', '--profiles', 'full,tofino']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("--profiles 'full,tofino' names tofino; choose from full, bmv2, real-bmv2");
    const { CARRYOVER_BMV2: _unset, ...env } = process.env;
    const r = await run(['bench', 'migrate', '--profiles', 'real-bmv2'], 60_000, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--profiles real-bmv2 needs CARRYOVER_BMV2');
  });

  it('cli — bench qemu --qemu-cpus takes a CPU list of this machine, running nothing otherwise', async () => {
    const help = await run(['bench', '--help']);
    expect(help.stdout).toContain('--qemu-cpus LIST');
    const bad = await run(['bench', 'qemu', '--qemu-cpus', '1;2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--qemu-cpus '1;2' is not a CPU list");
    const far = await run(['bench', 'qemu', '--qemu-cpus', '0,4096']);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/--qemu-cpus '0,4096' names CPU 4096, but this machine has CPUs 0-\d+/);
  });

  it("cli — package.json's bin and the README's demo script point at the launcher that exists", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    const launcher = pkg.bin['carryover'] ?? '';
    expect(existsSync(join(root, launcher))).toBe(true);
    expect(join(root, launcher)).toBe(bin);
    expect(pkg.scripts['demo']).toBe(`node ${launcher.replace(/^\.\//, '')} demo`);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toMatch(/npm install && npm run demo/);
  });

  it('cli — runs the built JavaScript with plain node: demo --json migrates a live VM and reports the fields operators script against', { timeout: 180_000 }, async () => {
    // Node 20 cannot load TypeScript: this run succeeding means only build/ and dist/ JavaScript ran.
    // Three switches, their plugins and the controller in one child process, on a machine running the rest of the suite.
    const r = await run(['demo', '--json', '--flows', '30', '--pause-deadline-ms', '60000'], 170_000);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['flows', 'flowsMigrated', 'survivedWith', 'brokenWithout', 'countersConserved', 'pauseSyncMs', 'rounds']) expect(out).toHaveProperty(k);
    expect(out['survivedWith']).toBe(out['openAtPause']);
    expect(out['brokenWithout']).toBe(out['openAtPause']);
    expect(out['countersConserved']).toBe(true);
  });

  it('cli — demo refuses an unknown topology or profile with the accepted values, exit 2', async () => {
    const a = await run(['demo', '--topology', '3:1']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--topology 3:1: expected one of 1:1, 2:1, 1:2/);
    const b = await run(['demo', '--profile', 'tofino']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--profile tofino: expected full or bmv2/);
  });

  it('cli — a CARRYOVER_EAGER_COMPILE that is neither 0 nor 1 is refused before any command runs, exit 2', async () => {
    const r = await run(['migrate', '--vm', 'vm1'], 60_000, { ...process.env, CARRYOVER_EAGER_COMPILE: 'fast' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CARRYOVER_EAGER_COMPILE=fast: expected 1 .* or 0/);
    expect(r.stderr).not.toMatch(/missing --config/);
  });

  it('cli — a command whose stderr reader goes away carries on to its end (a migration is not left half done): the demo still reports every flow', async () => {
    const child = spawn(process.execPath, [bin, 'demo', '--flows', '20', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // As `… 2>&1 | head -1` does: the reader of stderr leaves after the first progress line.
    child.stderr.once('data', () => child.stderr.destroy());
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { openAtPause: number; survivedWith: number };
    expect(report.survivedWith).toBe(report.openAtPause);
  }, 120_000);

  it('cli — without a build the launcher says how to make one and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carryover-nobuild-'));
    try {
      cpSync(bin, join(dir, 'scenarios', 'bin', 'carryover.mjs'));
      const r = await promisify(execFile)(process.execPath, [join(dir, 'scenarios', 'bin', 'carryover.mjs'), '--help']).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/built command is missing .*npm run build/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

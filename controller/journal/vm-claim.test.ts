import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimFile, claimVm, readClaim } from './vm-claim.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const journalDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'carryover-claim-'));
  dirs.push(d);
  return join(d, 'journal');
};

/** A real process that sleeps; `name` is on its command line (a carryover, or some other program). */
async function sleeper(name: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', name], { stdio: 'ignore' });
  children.push(c);
  await new Promise((resolve) => c.once('spawn', resolve));
  return c;
}
/** Writes a claim as another process would have. */
const claimedBy = (dir: string, vm: string, pid: number, host: string): void => {
  claimVm(dir, vm, 'test')();
  writeFileSync(claimFile(dir, vm), JSON.stringify({ pid, host, since: '2026-12-06T18:00:00.000Z', by: 'migrate m-1' }));
};

describe('vm claim — which carryover process moves a VM now', () => {
  it('vm claim — a claim is written for this process and removed by its release, once', () => {
    const dir = journalDir();
    const release = claimVm(dir, 'vm-7', 'migrate m-1');
    expect(JSON.parse(readFileSync(claimFile(dir, 'vm-7'), 'utf8'))).toMatchObject({ pid: process.pid, by: 'migrate m-1' });
    expect(readClaim(dir, 'vm-7')?.live).toBe(true);
    release();
    release();
    expect(existsSync(claimFile(dir, 'vm-7'))).toBe(false);
  });

  it('vm claim — a running carryover holds the VM: a second claim is refused naming it; once that process ends, its claim is stale and taken over', async () => {
    const dir = journalDir();
    const holder = await sleeper('carryover-migrate-holder');
    const { hostname } = await import('node:os');
    claimedBy(dir, 'vm-7', holder.pid as number, hostname());
    expect(() => claimVm(dir, 'vm-7', 'recover')).toThrow(new RegExp(`^VM vm-7 is being moved now by carryover migrate m-1 \\(pid ${holder.pid} on .*\\): wait for it to end, or stop it \\(Ctrl-C\\), then try again$`));
    holder.kill();
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(readClaim(dir, 'vm-7')?.live).toBe(false);
    const release = claimVm(dir, 'vm-7', 'recover');
    expect(readClaim(dir, 'vm-7')?.pid).toBe(process.pid);
    release();
  });

  it('vm claim — a pid now used by another program is no holder (Linux: its command line names no carryover)', async () => {
    const dir = journalDir();
    const other = await sleeper('some-other-daemon');
    const { hostname } = await import('node:os');
    claimedBy(dir, 'vm-7', other.pid as number, hostname());
    expect(readClaim(dir, 'vm-7')?.live).toBe(process.platform === 'linux' ? false : true);
  });

  it('vm claim — a claim from another host cannot be checked: refused, naming the file to delete once that process is gone', () => {
    const dir = journalDir();
    claimedBy(dir, 'vm-7', 4242, 'controller-b.dc-a');
    expect(readClaim(dir, 'vm-7')?.live).toBeUndefined();
    expect(() => claimVm(dir, 'vm-7', 'migrate')).toThrow(/^VM vm-7 is held by carryover migrate m-1 \(pid 4242 on controller-b\.dc-a, .*\), on another host: wait for it to end; if that process is gone, delete .*vm-7\.running$/);
  });
});

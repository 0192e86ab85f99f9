import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrateCommand } from './cli.js';

const SITE = `
devices:
  edge-1: { address: 127.0.0.1:9559, deviceId: 1, hosts: [host-a] }
  edge-2: { address: 127.0.0.1:9560, deviceId: 2, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

describe('carryover migrate — command line', () => {
  let dir: string;
  let site: string;
  let closedSite: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-migrate-'));
    site = join(dir, 'site.yaml');
    await writeFile(site, SITE);
    // Two ports nobody listens on: bound, then released.
    const ports = await Promise.all([0, 1].map(() => new Promise<number>((ok) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => ok(p));
      });
    })));
    closedSite = join(dir, 'closed.yaml');
    await writeFile(closedSite, SITE.replace('127.0.0.1:9559', `127.0.0.1:${ports[0]}`).replace('127.0.0.1:9560', `127.0.0.1:${ports[1]}`));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const run = async (argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMigrateCommand(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  };

  it('migrate — --plan validates and shows the plan (text and JSON), exit 0', async () => {
    const text = await run(['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--plan']);
    expect(text.code).toBe(0);
    expect(text.out[0]).toBe('plan: VM vm-7 (10.0.0.5) from host-a to host-b, topology 1:1');
    const json = await run(['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--plan', '--json']);
    expect(JSON.parse(json.out[0] ?? '{}')).toMatchObject({ topology: '1:1', sources: [{ name: 'edge-1', deviceId: '1' }], destinations: [{ name: 'edge-2', deviceId: '2' }] });
  });

  it('migrate — unreachable switches fail before anything moves: exit 1, the device and its address named', async () => {
    const r = await run(['--config', closedSite, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/DEVICE_UNREACHABLE: device 'edge-[12]' at 127\.0\.0\.1:\d+: .*check the address, device id and credentials in the inventory \(nothing was changed on any device\)/);
  }, 60_000);

  it('migrate — bad deadline, policy, undo retry or QEMU flags without a QEMU trigger are usage errors', async () => {
    const base = ['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b'];
    expect((await run([...base, '--pause-deadline-ms', '0'])).err[0]).toMatch(/--pause-deadline-ms 0: expected an integer 1\.\.600000/);
    expect((await run([...base, '--on-deadline', 'maybe'])).err[0]).toMatch(/--on-deadline maybe: expected abort or continue/);
    expect((await run([...base, '--undo-retry-ms', '1.5'])).err[0]).toMatch(/--undo-retry-ms 1.5: expected an integer 0\.\.600000/);
    expect((await run([...base, '--migrate-uri', 'tcp:1.2.3.4:5'])).err[0]).toMatch(/need --trigger qemu:/);
  });

  it('migrate — a negative value is range-checked in both spellings, an unknown flag, VM or host names the nearest (walkthrough 22)', async () => {
    const base = ['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b'];
    expect((await run([...base, '--pause-deadline-ms', '-1'])).err[0]).toMatch(/^carryover migrate: --pause-deadline-ms -1: expected an integer 1\.\.600000/);
    expect((await run([...base, '--undo-retry-ms', '-5'])).err[0]).toMatch(/^carryover migrate: --undo-retry-ms -5: expected an integer 0\.\.600000/);
    expect((await run([...base, '--pause-deadline', '3'])).err[0]).toMatch(/^carryover migrate: Unknown option '--pause-deadline'; did you mean --pause-deadline-ms\?/);
    expect((await run(['--config', site, '--vm', 'vm_7', '--from', 'host-a', '--to', 'host-b', '--plan'])).err[0]).toMatch(/VM 'vm_7' is not in the inventory \(vms: vm-7\); did you mean 'vm-7'\?; add it under 'vms'/);
    expect((await run(['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'hostb', '--plan'])).err[0]).toMatch(/destination host 'hostb' is not in the inventory \(hosts: host-a, host-b\); did you mean 'host-b'( or 'host-a')?\?/);
  });

  it('migrate — bad flags, a bad inventory and a bad request are usage errors naming the fix', async () => {
    expect((await run(['--vm', 'vm-7'])).err[0]).toMatch(/missing --config, --from, --to/);
    expect((await run(['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--trigger', 'libvirt'])).err[0]).toMatch(/expected manual or qemu:/);
    expect((await run(['--config', join(dir, 'none.yaml'), '--vm', 'v', '--from', 'a', '--to', 'b'])).err[0]).toMatch(/cannot read it/);
    const r = await run(['--config', site, '--vm', 'vm-7', '--from', 'host-b', '--to', 'host-a', '--plan']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/VM 'vm-7' runs on 'host-a', not 'host-b'/);
  });

  it('migrate — --plan refuses a placement hashing a field the flow key lacks, exit 2 (walkthrough 22: --plan OK, PEER_REJECTED after PREPARED)', async () => {
    const ecmp = join(dir, 'ecmp.yaml');
    await writeFile(ecmp, `${SITE}  edge-3: { address: 127.0.0.1:9561, deviceId: 3, hosts: [host-b] }\nhosts:\n  host-b: { placement: ecmp-b }\nplacement:\n  ecmp-b: { kind: hash, algorithm: crc32, fields: [vm_mac, remote_addr], devices: [edge-2, edge-3] }\n`.replace('vms:\n  vm-7: { address: 10.0.0.5, host: host-a }\n', '') + 'vms:\n  vm-7: { address: 10.0.0.5, host: host-a }\n');
    const r = await run(['--config', ecmp, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--plan']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/ecmp\.yaml: placement\.ecmp-b\.fields: hashes field 'vm_mac', which the flow key lacks \(it has vm_addr, remote_addr, vm_port, remote_port, protocol\)/);
  });

  it('migrate — a journal path that is a file is BAD_CONFIG naming the inventory\'s journal field, under --plan and --check too (walkthrough 22: VM_BUSY)', async () => {
    const filed = join(dir, 'filed.yaml');
    await writeFile(filed, `journal: filed.yaml\n${SITE}`);
    for (const mode of ['--plan', '--check']) {
      const r = await run(['--config', filed, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', mode, '--json']);
      expect(r.code).toBe(2);
      expect(r.err[0]).toMatch(/^carryover migrate: .*filed\.yaml: journal: .*filed\.yaml is a file, not a directory; set 'journal' in the inventory/);
      expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ outcome: 'refused', reason: 'BAD_CONFIG' });
    }
  });

  it.runIf(process.platform === 'linux')('migrate — a journal under /proc is refused at once naming the inventory, exit 2, not a recursive mkdir spinning forever (walkthrough 22)', async () => {
    const proc = join(dir, 'proc.yaml');
    await writeFile(proc, `journal: /proc/carryover-journal-test\n${SITE}`);
    const r = await run(['--config', proc, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b']);
    expect(r.code).toBe(2);
    expect(r.err.at(-1)).toMatch(/^carryover migrate: .*proc\.yaml: journal directory \/proc\/carryover-journal-test cannot be created \(mkdir \/proc\/carryover-journal-test: ENOENT\); set 'journal' in the inventory/);
  }, 10_000);

  it('migrate — with --json a refused request (exit 2) still prints one object on stdout, naming the reason', async () => {
    const bad = await run(['--config', site, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--pause-deadline-ms', '0', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.out).toHaveLength(1);
    expect(JSON.parse(bad.out[0] as string)).toMatchObject({ outcome: 'refused', reason: 'BAD_CONFIG', plan: null, detail: expect.stringMatching(/^--pause-deadline-ms 0: expected an integer/) as unknown });
    const wrongHost = await run(['--config', site, '--vm', 'vm-7', '--from', 'host-b', '--to', 'host-a', '--json']);
    expect(wrongHost.code).toBe(2);
    expect(JSON.parse(wrongHost.out[0] as string)).toMatchObject({ outcome: 'refused', detail: expect.stringMatching(/VM 'vm-7' runs on 'host-a', not 'host-b'/) as unknown });
    // Without --json, nothing on stdout.
    expect((await run(['--config', site, '--vm', 'vm-7', '--from', 'host-b', '--to', 'host-a'])).out).toEqual([]);
  });
});

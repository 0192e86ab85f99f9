/**
 * The `carryover` process ends once its verdict is out, whatever it left connecting: a device
 * address where something accepts TCP and never answers the TLS handshake (field walkthrough 22:
 * `migrate --check` printed NOT READY after 30 s and then never exited — scripts waiting for its
 * status hung). A real process, real sockets; the silent peer is a plain TCP server of the test's.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { P4INFO_PATH } from '../edge-rig.js';
import { controllerYaml, makeDomainFiles } from '../domain-files.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'carryover.mjs');

describe.skipIf(!opensslAvailable())('carryover process — ends after its verdict (needs openssl)', () => {
  it('cli exit — migrate --check against a device address that accepts TCP and never answers TLS: NOT READY naming the silence, and the process exits (exit 1), not held open by the connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carryover-exit-'));
    const pki = new TestPki();
    // Two of them: an inventory may not name one daemon address twice.
    const silent = [createServer(), createServer()];
    const sockets: Socket[] = [];
    for (const server of silent) {
      server.on('connection', (s) => {
        s.on('error', () => undefined);
        sockets.push(s);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    }
    const [a1, a2] = silent.map((server) => `127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const files = makeDomainFiles(pki, dir, 'dc-a');
      const config = join(dir, 'site.yaml');
      writeFileSync(config, [
        'domain: dc-a',
        controllerYaml(files),
        'devices:',
        `  edge-1: { plugin: { address: ${a1 ?? ''}, serverName: edge-1 }, hosts: [host-a] }`,
        `  edge-2: { plugin: { address: ${a2 ?? ''}, serverName: edge-2 }, hosts: [host-b] }`,
        'vms:',
        '  vm-a: { address: 10.0.0.5, host: host-a }',
        '',
      ].join('\n'));
      // Killed at 90 s if it hangs: the call deadline is 30 s, the diagnosis 3 s.
      const r = await new Promise<{ code: number | null; killed: boolean; stdout: string }>((resolve) => {
        execFile(process.execPath, [bin, 'migrate', '--config', config, '--vm', 'vm-a', '--from', 'host-a', '--to', 'host-b', '--check'], { timeout: 90_000 }, (err, stdout) => {
          const e = err as (Error & { code?: number; killed?: boolean }) | null;
          resolve({ code: e ? (e.code ?? null) : 0, killed: e?.killed === true, stdout });
        });
      });
      expect(r.killed).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/NOT READY/);
      expect(r.stdout).toMatch(/DEVICE_UNREACHABLE: edge-1 .*no plugin daemon answers at 127\.0\.0\.1:\d+: it accepted the TCP connection but did not answer the TLS handshake/);
    } finally {
      for (const s of sockets) s.destroy();
      for (const server of silent) server.close();
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('cli exit — carryover plugin still reaching a switch that says nothing: SIGTERM stops it then (exit 0), not at its 120 s connect timeout (walkthrough 22 B3: a first SIGTERM seemed ignored)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carryover-exit-plugin-'));
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const config = join(dir, 'plugin.json');
    writeFileSync(config, JSON.stringify({ switch: { address, deviceId: 1, electionId: 10 }, p4info: P4INFO_PATH, connectTimeoutMs: 120_000 }));
    /** Starts the daemon, waits until the switch's address has been dialled, sends `signals` 300 ms apart; its exit code, signal and output (SIGKILLed at 30 s). */
    const run = async (signals: readonly NodeJS.Signals[]): Promise<{ code: number | null; signal: string | null; out: string }> => {
      const before = sockets.length;
      const child = spawn(process.execPath, [bin, 'plugin', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
      for (let i = 0; i < 400 && sockets.length === before; i++) await new Promise((r) => setTimeout(r, 50));
      for (const s of signals) {
        child.kill(s);
        await new Promise((r) => setTimeout(r, 300));
      }
      // Killed here if it hangs (the connect would wait 120 s).
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const e = await exited;
      clearTimeout(timer);
      return { ...e, out };
    };
    try {
      const once = await run(['SIGTERM']);
      expect(once).toMatchObject({ code: 0, signal: null });
      expect(once.out).toContain(`SIGTERM while starting against ${address}, stopping`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

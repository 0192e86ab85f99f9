import { describe, expect, it } from 'vitest';
import { runSimCommand } from './cli.js';
import { RawP4RuntimeClient } from './testing/raw-client.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (sig: string) => void = () => undefined;
  const stopSignal = new Promise<string>((r) => (stop = r));
  return { out, err, stop: (s: string) => stop(s), io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), stopSignal } };
}

describe('carryover sim — command', () => {
  it('carryover sim — logs the bound address, serves P4Runtime, and exits 0 when told to stop', async () => {
    const t = io();
    const run = runSimCommand(['--listen', '127.0.0.1:0', '--profile', 'bmv2', '--device-id', '3', '--cpu-port', '64', '--log-level', 'warn'], t.io);
    for (let i = 0; i < 100 && t.out.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const line = t.out[0] ?? '';
    expect(line).toMatch(/^carryover sim: listening on 127\.0\.0\.1:\d+ \(profile bmv2, device 3, cpu port 64, program from the pushed pipeline; built-in programs: .*l2_echo/);
    const address = /listening on (\S+)/.exec(line)?.[1] ?? '';
    const client = new RawP4RuntimeClient(address);
    expect((await client.capabilities()).version).toBe('1.3.0');
    client.close();
    t.stop('SIGTERM');
    expect(await run).toBe(0);
    expect(t.out[1]).toBe('carryover sim: SIGTERM, stopping');
  });

  it('carryover sim — bad flags exit 2 with a message naming the flag and the expected form', async () => {
    const cases: [string[], RegExp][] = [
      [['--profile', 'tofino'], /--profile tofino: expected one of full, bmv2, stratum-tofino/],
      [['--cpu-port', 'x'], /--cpu-port x: expected a non-negative integer/],
      [['--listen', 'nowhere'], /sim option 'listen': got "nowhere"; expected 'host:port'/],
      [['--tls-cert', 'a.pem'], /--tls-cert and --tls-key go together/],
      [['--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [argv, msg] of cases) {
      const t = io();
      expect(await runSimCommand(argv, t.io)).toBe(2);
      expect(t.err.join('\n')).toMatch(msg);
    }
  });

  it('carryover sim — --help prints the options and exits 0', async () => {
    const t = io();
    expect(await runSimCommand(['--help'], t.io)).toBe(0);
    expect(t.out[0]).toMatch(/--listen HOST:PORT[\s\S]*--device-id N[\s\S]*--profile NAME[\s\S]*--program NAME[\s\S]*--cpu-port N/);
  });
});

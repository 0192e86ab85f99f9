import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HwTestError } from './errors.js';
import { DEFAULT_HW_TEST_OPTIONS, parseHwTestOptions } from './options.js';
import type { HwTestOptions } from './options.js';
import { P4INFO_PATH } from './testing/sim-target.js';

const base: HwTestOptions = { target: '127.0.0.1:9559', profile: 'bmv2', p4info: P4INFO_PATH };

function rejects(o: Record<string, unknown>): string {
  try {
    parseHwTestOptions({ ...base, ...o } as unknown as HwTestOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(HwTestError);
    expect((e as HwTestError).code).toBe('BAD_OPTIONS');
    return (e as Error).message;
  }
  throw new Error('expected the options to be rejected');
}

describe('hw-test options — defaults', () => {
  it('fills defaults, reads the P4Info, and freezes the result', () => {
    const o = parseHwTestOptions(base);
    expect(o).toMatchObject({ target: '127.0.0.1:9559', deviceId: 0n, cpuPort: 255, pushPipeline: false, flows: DEFAULT_HW_TEST_OPTIONS.flows, electionId: undefined, peer: undefined });
    expect(o.schema.programName).toBe('stateful_edge');
    expect(o.groups).toEqual(['conformance', 'differential', 'placement', 'state-access']);
    expect(o.credentials).toEqual({ kind: 'insecure' });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('--peer adds the migration group; --groups keeps registry order and drops repeats', () => {
    expect(parseHwTestOptions({ ...base, peer: '10.0.0.2:9559' }).groups).toContain('migration');
    expect(parseHwTestOptions({ ...base, deviceId: 3, peer: '10.0.0.2:9559' }).peerDeviceId).toBe(3n);
    expect(parseHwTestOptions({ ...base, target: '10.0.0.2:9559', peer: '10.0.0.2:9559', peerDeviceId: 1 }).peerDeviceId).toBe(1n);
    expect(parseHwTestOptions({ ...base, groups: ['placement', 'conformance', 'placement'] }).groups).toEqual(['conformance', 'placement']);
  });

  it('takes TLS files as server TLS (CA only) or mutual TLS (CA, cert, key)', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n';
    expect(parseHwTestOptions({ ...base, tls: { ca: pem } }).credentials).toEqual({ kind: 'tls', ca: pem });
    expect(parseHwTestOptions({ ...base, tls: { ca: pem, cert: pem, key } }).credentials).toEqual({ kind: 'mtls', ca: pem, cert: pem, key });
  });

  it('TLS files — a certificate and key given the other way round are refused naming the file, what it holds and what was expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-test-tls-'));
    try {
      const [ca, cert, key] = ['ca.crt', 'client.crt', 'client.key'].map((f) => join(dir, f)) as [string, string, string];
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
      writeFileSync(cert, '-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n');
      writeFileSync(key, '-----BEGIN EC PRIVATE KEY-----\nk\n-----END EC PRIVATE KEY-----\n');
      expect(() => parseHwTestOptions({ ...base, tls: { ca, cert: key, key: cert } })).toThrow(
        `--tls-cert: '${key}' holds an EC PRIVATE KEY; expected a PEM file holding a certificate (our client certificate) (are --tls-cert and --tls-key swapped?)`,
      );
      expect(() => parseHwTestOptions({ ...base, tls: { ca: key } })).toThrow(`--tls-ca: '${key}' holds an EC PRIVATE KEY; expected a PEM file holding a certificate (the CA that signed the target's certificate)`);
      expect(() => parseHwTestOptions({ ...base, peer: '10.0.0.2:9559', peerTls: { ca, cert, key: cert } })).toThrow(
        `--peer-tls-key: '${cert}' holds a CERTIFICATE; expected a PEM file holding a private key (the key of --peer-tls-cert) (are --peer-tls-cert and --peer-tls-key swapped?)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the peer is reached with the target\'s TLS unless --peer-tls-* give its own', () => {
    const [caA, caB] = ['-----BEGIN CERTIFICATE-----\na\n', '-----BEGIN CERTIFICATE-----\nb\n'];
    const inherited = parseHwTestOptions({ ...base, peer: '10.0.0.2:9559', tls: { ca: caA } });
    expect(inherited.peerCredentials).toEqual({ kind: 'tls', ca: caA });
    const keyB = '-----BEGIN PRIVATE KEY-----\nb\n';
    const own = parseHwTestOptions({ ...base, peer: '10.0.0.2:9559', tls: { ca: caA }, peerTls: { ca: caB, cert: caB, key: keyB } });
    expect(own.credentials).toEqual({ kind: 'tls', ca: caA });
    expect(own.peerCredentials).toEqual({ kind: 'mtls', ca: caB, cert: caB, key: keyB });
    expect(parseHwTestOptions({ ...base, peer: '10.0.0.2:9559', peerTls: { ca: caB } }).credentials).toEqual({ kind: 'insecure' });
  });
});

describe('hw-test options — bad input names the flag and the fix', () => {
  it.each([
    [{ target: 'localhost' }, /^--target: got "localhost"; expected HOST:PORT .* e\.g\. --target 127\.0\.0\.1:9559$/],
    [{ target: '10.0.0.1:70000' }, /^--target: .*port 1\.\.65535/],
    [{ profile: 'tofino' }, /^--profile: got "tofino"; expected one of bmv2, stratum-tofino, full/],
    [{ p4info: '/nonexistent/x.p4info.txtpb' }, /^--p4info: .*cannot read P4Info file '\/nonexistent\/x\.p4info\.txtpb'.*give the P4Info/],
    [{ deviceConfig: '/nonexistent/x.json' }, /^--device-config: cannot read the device config '\/nonexistent\/x\.json'/],
    [{ pushPipeline: true }, /^--push-pipeline: needs --device-config FILE/],
    [{ deviceId: 'one' }, /^--device-id: got "one"; expected a whole number, e\.g\. --device-id 0$/],
    [{ electionId: 1 }, /^--election-id: 1 is outside 2\.\./],
    [{ cpuPort: 600 }, /^--cpu-port: got 600; expected an integer 0\.\.511$/],
    [{ groups: ['conformance', 'speed'] }, /^--groups: unknown group 'speed'; choose from conformance, differential, placement, state-access, migration$/],
    [{ peer: 'nowhere' }, /^--peer: got "nowhere"; expected HOST:PORT/],
    [{ groups: ['migration'] }, /^--groups: the migration group moves state between two switches: add --peer HOST:PORT/],
    [{ target: '127.0.0.1:9559', peer: '127.0.0.1:9559' }, /^--peer: 127\.0\.0\.1:9559 device 0 is the target itself; give a second switch/],
    [{ peer: '10.0.0.2:9559', peerDeviceId: -1 }, /^--peer-device-id: -1 is outside 0\.\./],
    [{ migrationFlows: 0 }, /^--migration-flows: got 0; expected an integer 1\.\.10000$/],
    [{ fixture: { migrationVm: { addr: '10.250.0.5', port: 6, vmId: 1010, peerVmId: 1011 } } }, /^fixture\.migrationVm\.addr: got "10\.250\.0\.5"; expected a dotted-quad IPv4 address no other fixture VM has$/],
    [{ fixture: { migrationVm: { addr: '10.250.0.10', port: 1, vmId: 1010, peerVmId: 1011 } } }, /^fixture\.migrationVm\.port: got 1; expected a 9-bit port no other fixture entry uses$/],
    [{ fixture: { migrationVm: { addr: '10.250.0.10', port: 6, vmId: 1001, peerVmId: 1011 } } }, /^fixture\.migrationVm\.vmId: got 1001; expected a VM id 1\.\.1023/],
    [{ flows: 0 }, /^--flows: got 0; expected an integer 1\.\.100000$/],
    [{ tls: { cert: 'c.pem' } }, /^--tls-key: --tls-cert and --tls-key go together/],
    [{ tls: { cert: '-----BEGIN x', key: '-----BEGIN y' } }, /^--tls-ca: mutual TLS .* add --tls-ca FILE$/],
    [{ peerTls: { ca: '-----BEGIN x' } }, /^--peer-tls-ca: the --peer-tls-\* flags describe the TLS of the --peer switch: add --peer HOST:PORT, or drop them$/],
    [{ peer: '10.0.0.2:9559', peerTls: { key: 'k.pem' } }, /^--peer-tls-cert: --peer-tls-cert and --peer-tls-key go together/],
    [{ peer: '10.0.0.2:9559', peerTls: { cert: '-----BEGIN x', key: '-----BEGIN y' } }, /^--peer-tls-ca: mutual TLS \(--peer-tls-cert\/--peer-tls-key\) also needs the CA that signed the peer's certificate: add --peer-tls-ca FILE$/],
    [{ peer: '10.0.0.2:9559', peerTls: { ca: '/nonexistent/peer-ca.pem' } }, /^--peer-tls-ca: cannot read the PEM file '\/nonexistent\/peer-ca\.pem'/],
    [{ fixture: { uplinkPort: 1 } }, /^fixture\.uplinkPort: got 1; expected a 9-bit port no VM sits behind$/],
  ])('%j', (o, message) => {
    expect(rejects(o)).toMatch(message);
  });

  it('refuses a P4Info that is not the stateful_edge contract before touching a target', async () => {
    const { runHwTest } = await import('./run-hw-test.js');
    const l2 = new URL('../p4runtime-ts/src/schema/fixtures/', import.meta.url).pathname;
    const { readdirSync } = await import('node:fs');
    const file = readdirSync(l2).find((f) => f.endsWith('.txtpb'));
    if (!file) throw new Error('no P4Info fixture');
    // Port 9 is closed: a run that got past the P4Info would fail to connect instead.
    await expect(runHwTest({ ...base, target: '127.0.0.1:9', p4info: `${l2}${file}` })).rejects.toThrow(/^--p4info: .* (lacks|breaks the migration contract)/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEdgePluginConfig, parseEdgePluginConfig } from './config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'carryover-plugin-config-'));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const good = { switch: { address: '127.0.0.1:9559', deviceId: 0 }, p4info: 'edge.p4info.txtpb' };

describe('plugin config file', () => {
  it('plugin config — a minimal file gives insecure options with paths relative to the file', () => {
    const c = loadEdgePluginConfig(write('ok.json', JSON.stringify(good)));
    expect(c.options.address).toBe('127.0.0.1:9559');
    expect(c.options.deviceId).toBe(0n);
    expect(c.options.p4info).toBe(resolve(dir, 'edge.p4info.txtpb'));
    expect(c.options.credentials).toEqual({ kind: 'insecure' });
    expect(c.healthIntervalMs).toBe(10_000);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('plugin config — tls with cert and key is mutual TLS; big election ids come as strings', () => {
    const c = parseEdgePluginConfig({ ...good, switch: { ...good.switch, electionId: '18446744073709551616' }, tls: { ca: 'ca.pem', cert: 'p.pem', key: 'p.key' } }, join(dir, 'x.json'));
    expect(c.options.credentials).toEqual({ kind: 'mtls', ca: resolve(dir, 'ca.pem'), cert: resolve(dir, 'p.pem'), key: resolve(dir, 'p.key') });
    expect(c.options.electionId).toBe(1n << 64n);
  });

  it.each([
    ['a missing file', () => loadEdgePluginConfig(join(dir, 'nope.json')), /nope\.json: cannot read it/],
    ['malformed JSON', () => loadEdgePluginConfig(write('bad.json', '{ "switch": ')), /bad\.json: not valid JSON/],
    ['a misspelt field', () => parseEdgePluginConfig({ ...good, pinholeIdleTimout: '30s' }, 'f.json'), /f\.json: field 'pinholeIdleTimout': expected one of the known fields .* misspelt/],
    ['no switch', () => parseEdgePluginConfig({ p4info: 'x' }, 'f.json'), /field 'switch': expected an object with address and deviceId/],
    ['a bad address', () => parseEdgePluginConfig({ ...good, switch: { address: 'switch-1', deviceId: 0 } }, 'f.json'), /field 'switch.address': expected 'host:port'/],
    ['a negative device id', () => parseEdgePluginConfig({ ...good, switch: { address: 'a:1', deviceId: -1 } }, 'f.json'), /field 'switch.deviceId': expected a non-negative integer/],
    ['cert without key', () => parseEdgePluginConfig({ ...good, tls: { ca: 'c', cert: 'p' } }, 'f.json'), /field 'tls.key': expected both tls.cert and tls.key/],
    ['an unknown register access mode', () => parseEdgePluginConfig({ ...good, registerAccess: 'magic' }, 'f.json'), /field 'registerAccess': expected one of probe, p4runtime, inband, got "magic"/],
    ['a poll interval of 1 ms', () => parseEdgePluginConfig({ ...good, pinholeExpiry: { pollMs: 1 } }, 'f.json'), /field 'pinholeExpiry.pollMs': expected an integer 10..3600000, got 1/],
    ['an in-band window of 0', () => parseEdgePluginConfig({ ...good, inband: { window: 0 } }, 'f.json'), /field 'inband.window': expected an integer 1..4096, got 0/],
  ])('plugin config — %s is refused naming the file and the field', (_name, load, message) => {
    expect(load).toThrow(message);
  });
});

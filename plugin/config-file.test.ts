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
    expect(c.options.grpcClient).toBeUndefined();
    expect(c.healthIntervalMs).toBe(10_000);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('plugin config — tls with cert and key is mutual TLS; big election ids come as strings', () => {
    const c = parseEdgePluginConfig({ ...good, switch: { ...good.switch, electionId: '18446744073709551616', grpcClient: 'grpc-js', openStreamsAhead: false }, tls: { ca: 'ca.pem', cert: 'p.pem', key: 'p.key' } }, join(dir, 'x.json'));
    expect(c.options.grpcClient).toBe('grpc-js');
    expect(c.options.openStreamsAhead).toBe(false);
    expect(c.options.credentials).toEqual({ kind: 'mtls', ca: resolve(dir, 'ca.pem'), cert: resolve(dir, 'p.pem'), key: resolve(dir, 'p.key') });
    expect(c.options.electionId).toBe(1n << 64n);
  });

  it('plugin config — replacePipeline: absent by default (the plugin refuses another program), true or false kept; anything else, or true without a deviceConfig, names the file, field and fix', () => {
    const x = join(dir, 'plugin.yaml');
    expect(parseEdgePluginConfig(good, x).options.replacePipeline).toBeUndefined();
    expect(parseEdgePluginConfig({ ...good, deviceConfig: 'edge.json', replacePipeline: true }, x).options.replacePipeline).toBe(true);
    expect(() => parseEdgePluginConfig({ ...good, deviceConfig: 'edge.json', replacePipeline: 'yes' }, x)).toThrow(/plugin\.yaml: field 'replacePipeline': expected true or false \(default false: .*refuses one running another program; true replaces .*clearing every table entry/);
    expect(() => parseEdgePluginConfig({ ...good, replacePipeline: true }, x)).toThrow(/plugin\.yaml: field 'replacePipeline': expected false or absent without deviceConfig .*add deviceConfig, or remove replacePipeline/);
  });

  const migration = { listen: '0.0.0.0:50051', device: 'edge-1', tls: { ca: 'ca.pem', cert: 'e.pem', key: 'e.key' }, trustedCallers: ['controller-a'], coordinators: { 'dc-a': 'dc-a.pub' } };

  it('plugin config — a YAML file with a migration section: paths relative to it, callers and coordinators kept', () => {
    const c = loadEdgePluginConfig(write('plugin.yaml', [
      'switch: { address: "127.0.0.1:9559", deviceId: 0, electionId: "18446744073709551616" }',
      'p4info: edge.p4info.txtpb',
      'migration:',
      '  listen: 0.0.0.0:50051',
      '  device: edge-1',
      '  tls: { ca: ca.pem, cert: e.pem, key: e.key }',
      '  trustedCallers: [controller-a, "spiffe://dc-a/controller"]',
      '  coordinators: { dc-a: keys/dc-a.pub, dc-b: keys/dc-b.pub }',
      '  requiredSigners: [dc-a, dc-b]',
      '  snapshotSource: index',
      '  newFlowDigestDelayMs: 20',
      '',
    ].join('\n')));
    expect(c.options.electionId).toBe(1n << 64n);
    expect(c.migration).toEqual({
      listen: '0.0.0.0:50051', device: 'edge-1', tls: { ca: resolve(dir, 'ca.pem'), cert: resolve(dir, 'e.pem'), key: resolve(dir, 'e.key') },
      trustedCallers: ['controller-a', 'spiffe://dc-a/controller'], coordinators: { 'dc-a': resolve(dir, 'keys/dc-a.pub'), 'dc-b': resolve(dir, 'keys/dc-b.pub') },
      requiredSigners: ['dc-a', 'dc-b'], maxMessageBytes: undefined, deltaIntervalMs: undefined, snapshotSource: 'index', newFlowDigestDelayMs: 20, frozenWarnMs: 10_000,
    });
    expect(loadEdgePluginConfig(write('plain.json', JSON.stringify(good))).migration).toBeUndefined();
  });

  it.each([
    ['malformed YAML', () => loadEdgePluginConfig(write('bad.yaml', 'switch: [unclosed')), /bad\.yaml: not valid YAML/],
    ['a migration section without tls', () => parseEdgePluginConfig({ ...good, migration: { ...migration, tls: undefined } }, 'f.json'), /field 'migration.tls': expected an object with ca, cert and key/],
    ['no trusted callers', () => parseEdgePluginConfig({ ...good, migration: { ...migration, trustedCallers: [] } }, 'f.json'), /field 'migration.trustedCallers': expected a non-empty list/],
    ['no coordinators', () => parseEdgePluginConfig({ ...good, migration: { ...migration, coordinators: {} } }, 'f.json'), /field 'migration.coordinators': expected at least one trusted coordinator/],
    ['a required signer without a key', () => parseEdgePluginConfig({ ...good, migration: { ...migration, requiredSigners: ['dc-z'] } }, 'f.json'), /field 'migration.requiredSigners': expected names of coordinators listed in migration.coordinators \(dc-a\), got "dc-z"/],
    ['a bad listen address', () => parseEdgePluginConfig({ ...good, migration: { ...migration, listen: '50051' } }, 'f.json'), /field 'migration.listen': expected 'host:port'/],
    ['a listen port above 65535', () => parseEdgePluginConfig({ ...good, migration: { ...migration, listen: '127.0.0.1:70000' } }, 'f.json'), /field 'migration.listen': expected 'host:port' with a port 0\.\.65535 .*got "127\.0\.0\.1:70000"/],
    ['an unknown snapshot source', () => parseEdgePluginConfig({ ...good, migration: { ...migration, snapshotSource: 'cache' } }, 'f.json'), /field 'migration.snapshotSource': expected auto or index, got "cache"/],
    ['a frozen-warning threshold below 100 ms', () => parseEdgePluginConfig({ ...good, migration: { ...migration, frozenWarnMs: 5 } }, 'f.json'), /field 'migration.frozenWarnMs': expected/],
    ['a negative new-flow digest delay', () => parseEdgePluginConfig({ ...good, migration: { ...migration, newFlowDigestDelayMs: -1 } }, 'f.json'), /field 'migration.newFlowDigestDelayMs': expected/],
    ['a misspelt migration field', () => parseEdgePluginConfig({ ...good, migration: { ...migration, trustedCaller: ['x'] } }, 'f.json'), /field 'migration.trustedCaller': expected one of the known fields/],
    ['a missing file', () => loadEdgePluginConfig(join(dir, 'nope.json')), /nope\.json: cannot read it/],
    ['malformed JSON', () => loadEdgePluginConfig(write('bad.json', '{ "switch": ')), /bad\.json: not valid JSON/],
    ['a misspelt field', () => parseEdgePluginConfig({ ...good, pinholeIdleTimout: '30s' }, 'f.json'), /f\.json: field 'pinholeIdleTimout': expected one of the known fields .* misspelt/],
    ['no switch', () => parseEdgePluginConfig({ p4info: 'x' }, 'f.json'), /field 'switch': expected an object with address and deviceId/],
    ['a bad address', () => parseEdgePluginConfig({ ...good, switch: { address: 'switch-1', deviceId: 0 } }, 'f.json'), /field 'switch.address': expected 'host:port'/],
    ['a port above 65535', () => parseEdgePluginConfig({ ...good, switch: { address: '127.0.0.1:70000', deviceId: 1 } }, 'f.json'), /field 'switch.address': expected 'host:port' with a port 1..65535/],
    ['election id 0', () => parseEdgePluginConfig({ ...good, switch: { address: 'a:1', deviceId: 1, electionId: 0 } }, 'f.json'), /field 'switch.electionId': expected an integer 1 .. 2\^128-1: P4Runtime reserves election id 0/],
    ['a negative device id', () => parseEdgePluginConfig({ ...good, switch: { address: 'a:1', deviceId: -1 } }, 'f.json'), /field 'switch.deviceId': expected a non-negative integer/],
    ['cert without key', () => parseEdgePluginConfig({ ...good, tls: { ca: 'c', cert: 'p' } }, 'f.json'), /field 'tls.key': expected both tls.cert and tls.key/],
    ['an unknown gRPC client', () => parseEdgePluginConfig({ ...good, switch: { address: 'a:1', deviceId: 0, grpcClient: 'grpc' } }, 'f.json'), /field 'switch.grpcClient': expected 'http2' .* or 'grpc-js', got "grpc"/],
    ['streams ahead not a boolean', () => parseEdgePluginConfig({ ...good, switch: { address: 'a:1', deviceId: 0, openStreamsAhead: 1 } }, 'f.json'), /field 'switch.openStreamsAhead': expected true or false \(default true\), got 1/],
    ['an unknown register access mode', () => parseEdgePluginConfig({ ...good, registerAccess: 'magic' }, 'f.json'), /field 'registerAccess': expected one of probe, p4runtime, inband, got "magic"/],
    ['a poll interval of 1 ms', () => parseEdgePluginConfig({ ...good, pinholeExpiry: { pollMs: 1 } }, 'f.json'), /field 'pinholeExpiry.pollMs': expected an integer 10..3600000, got 1/],
    ['an in-band window of 0', () => parseEdgePluginConfig({ ...good, inband: { window: 0 } }, 'f.json'), /field 'inband.window': expected an integer 1..4096, got 0/],
  ])('plugin config — %s is refused naming the file and the field', (_name, load, message) => {
    expect(load).toThrow(message);
  });
});

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { P4Schema, silentLogger } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_PLUGIN_OPTIONS, parseEdgePluginOptions } from './edge-plugin-options.js';
import { createEdgePlugin } from './edge-plugin.js';
import { EdgePluginError } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import { STATEFUL_EDGE_P4INFO_PATH, editP4Info, statefulEdgeP4InfoText } from './testing/stateful-edge-p4info.js';

const base = { address: '127.0.0.1:9559', deviceId: 1, p4info: STATEFUL_EDGE_P4INFO_PATH };

describe('edge plugin options — validation at the edge', () => {
  it('edge plugin options — replacePipeline defaults to false (a push clears the switch); a non-boolean, or a recheck interval below 10 ms, is BAD_OPTIONS naming the field', () => {
    expect(DEFAULT_EDGE_PLUGIN_OPTIONS.replacePipeline).toBe(false);
    expect(parseEdgePluginOptions(base)).toMatchObject({ replacePipeline: false, pipelineRecheckMs: 5_000 });
    expect(parseEdgePluginOptions({ ...base, replacePipeline: true }).replacePipeline).toBe(true);
    expect(() => parseEdgePluginOptions({ ...base, replacePipeline: 'yes' as unknown as boolean })).toThrow(/^EdgePluginOptions\.replacePipeline: got "yes"; expected true or false \(default false/);
    expect(() => parseEdgePluginOptions({ ...base, pipelineRecheckMs: 1 })).toThrow(/^EdgePluginOptions\.pipelineRecheckMs: got 1; expected an integer/);
  });

  it('edge plugin options — the pipeline is watched every 5 s by default; 0 turns the watch off; anything else under 100 ms is BAD_OPTIONS naming the field', () => {
    expect(parseEdgePluginOptions(base).pipelineWatchMs).toBe(5_000);
    expect(parseEdgePluginOptions({ ...base, pipelineWatchMs: 0 }).pipelineWatchMs).toBe(0);
    expect(() => parseEdgePluginOptions({ ...base, pipelineWatchMs: 50 })).toThrow(/^EdgePluginOptions\.pipelineWatchMs: got 50; expected an integer number of milliseconds >= 100, or 0 for never/);
  });

  it('fills the defaults, loads the P4Info file and freezes the result', () => {
    const o = parseEdgePluginOptions(base);
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.schema.programName).toBe('stateful_edge');
    expect(o.p4infoSource).toBe(STATEFUL_EDGE_P4INFO_PATH);
    expect(o).toMatchObject({ registerAccess: 'probe', inband: { window: 64, timeoutMs: 250, maxAttempts: 5 }, pinholeIdleTimeoutNs: 30_000_000_000n, deviceConfig: undefined, connectTimeoutMs: 10_000, grpcClient: 'http2', openStreamsAhead: true });
    expect(o.learnDigest).toEqual({ maxListSize: 100, maxTimeoutNs: 1_000_000n, ackTimeoutNs: 1_000_000_000n });
    expect(DEFAULT_EDGE_PLUGIN_OPTIONS.registerAccess).toBe('probe');
  });

  it('takes a P4Schema and device config bytes as given', () => {
    const schema = P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH);
    const cfg = new Uint8Array([1, 2, 3]);
    const o = parseEdgePluginOptions({ ...base, p4info: schema, deviceConfig: cfg, inband: { window: 16 }, pinholeIdleTimeout: '250ms' });
    expect(o.schema).toBe(schema);
    expect(o.deviceConfig).toBe(cfg);
    expect(o.inband.window).toBe(16);
    expect(o.pinholeIdleTimeoutNs).toBe(250_000_000n);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['address', { address: 'switch-1' }, /EdgePluginOptions\.address: got "switch-1"; expected 'host:port'/],
    ['deviceId', { deviceId: -1 }, /EdgePluginOptions\.deviceId: got -1; expected an unsigned 64-bit device id/],
    ['p4info path', { p4info: '/nonexistent/prog.p4info.txtpb' }, /EdgePluginOptions\.p4info: got "\/nonexistent\/prog\.p4info\.txtpb"; expected a readable P4Info file/],
    ['device config path', { deviceConfig: '/nonexistent/prog.json' }, /EdgePluginOptions\.deviceConfig: got "\/nonexistent\/prog\.json"; expected a readable file/],
    ['gRPC client', { grpcClient: 'grpcjs' }, /EdgePluginOptions\.grpcClient: got "grpcjs"; expected 'http2' .* or 'grpc-js'/],
    ['streams opened ahead', { openStreamsAhead: 'yes' }, /EdgePluginOptions\.openStreamsAhead: got "yes"; expected true or false/],
    ['register access mode', { registerAccess: 'registers' }, /EdgePluginOptions\.registerAccess: got "registers"; expected 'probe', 'p4runtime' or 'inband'/],
    ['in-band window', { inband: { window: 0 } }, /EdgePluginOptions\.inband\.window: got 0; expected an integer in 1\.\.65536/],
    ['pinhole idle timeout', { pinholeIdleTimeout: 'soon' }, /EdgePluginOptions\.pinholeIdleTimeout: got "soon"; expected a duration such as '30s'/],
    ['digest timeout below 1 ms', { learnDigest: { maxTimeout: '100us' } }, /learnDigest\.maxTimeout: got "100us"; expected 0 or at least '1ms'/],
    ['scheduler', { scheduler: { now: () => 0 } }, /EdgePluginOptions\.scheduler: .*expected a Clock/],
  ];
  for (const [what, patch, message] of bad) {
    it(`rejects a bad ${what}, naming the field and the expected form`, () => {
      let err: unknown;
      try {
        parseEdgePluginOptions({ ...base, ...patch } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EdgePluginError);
      expect(err).toMatchObject({ code: 'BAD_OPTIONS', message });
    });
  }
});

describe('edge plugin options — a device config of another build', () => {
  it('edge plugin options — a BMv2 JSON that is not the P4Info\'s build (a register array smaller) is refused before anything is pushed; the committed pair passes', () => {
    const json = readFileSync(join(dirname(STATEFUL_EDGE_P4INFO_PATH), 'stateful_edge.json'));
    expect(parseEdgePluginOptions({ ...base, deviceConfig: json }).deviceConfig).toBe(json);
    const doc = JSON.parse(json.toString('utf8')) as { register_arrays: { name: string; size: number }[] };
    for (const r of doc.register_arrays) if (r.name.endsWith('.ct_state')) r.size = 4096;
    const other = new TextEncoder().encode(JSON.stringify(doc));
    expect(() => parseEdgePluginOptions({ ...base, deviceConfig: other })).toThrow(/EdgePluginOptions\.deviceConfig: got <\d+ bytes>; expected the BMv2 JSON of the same p4c run as the P4Info .*: register 'StatefulEdgeIngress\.conntrack\.ct_state': 327680 × bit<64> in the P4Info, 4096 × bit<64> in the JSON/);
  });
});

describe('edge plugin — creation', () => {
  it('reads the contract when created, before any connection, and fails on a P4Info that breaks it', () => {
    const plugin = createEdgePlugin(base);
    expect(plugin.group.name).toBe('conntrack');
    expect(plugin.health()).toMatchObject({ state: 'idle', primary: false, program: 'stateful_edge', registerAccess: undefined, errors: 0 });
    expect(() => plugin.registerAccess).toThrow(/registerAccess is chosen during start\(\); the plugin is idle/);
    const broken = P4Schema.fromText(editP4Info(statefulEdgeP4InfoText(), '@migrate_ways(2)', '@migrate_ways(3)'), 'broken');
    expect(() => createEdgePlugin({ ...base, p4info: broken })).toThrow(/choice 1 covers 262144 slots, not a whole number of 3-slot buckets/);
    expect(() => createEdgePlugin({ ...base, group: 'flows' })).toThrow(/needs slot group 'flows'/);
  });

  it('refuses readVmState before start, and stop() of an idle plugin ends in stopped', async () => {
    const plugin = createEdgePlugin(base);
    await expect(plugin.readVmState(1)).rejects.toMatchObject({ code: 'NOT_RUNNING', message: /needs the plugin running, but it is idle; call start\(\) first/ });
    await plugin.stop();
    expect(plugin.health().state).toBe('stopped');
    await expect(plugin.start()).rejects.toMatchObject({ code: 'NOT_RUNNING' });
  });
});

describe('edge plugin — lifecycle', () => {
  it('allows the start sequence, failure from any working state, and logs each change', () => {
    const lines: string[] = [];
    const logger = { ...silentLogger, info: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${String(f?.from)}→${String(f?.to)}`), error: (m: string, f?: Record<string, unknown>) => lines.push(`ERROR ${m} ${String(f?.to)} ${String(f?.reason)}`) };
    let t = 0;
    const life = new Lifecycle(logger, () => t++);
    for (const s of ['connecting', 'arbitrating', 'pipeline', 'probing', 'running', 'stopping', 'stopped'] as const) life.to(s);
    expect(life.history().map((c) => c.to)).toEqual(['connecting', 'arbitrating', 'pipeline', 'probing', 'running', 'stopping', 'stopped']);
    expect(lines[0]).toBe('edge plugin state idle→connecting');
    expect(() => life.to('running')).toThrow(/illegal state change stopped → running/);

    const failing = new Lifecycle(logger, () => 0);
    failing.to('connecting');
    failing.to('failed', 'no route');
    expect(lines.at(-1)).toBe('ERROR edge plugin state failed no route');
    expect(() => failing.to('running')).toThrow(/illegal/);
    failing.to('stopping');
  });
});

/**
 * Test fixtures for the sim: a switch on 127.0.0.1:0, a raw client, a primary stream, and the
 * l2_echo pipeline pushed the way the profile wants it (BMv2 JSON on bmv2). Not product code.
 */
import { canonicalBytes } from '../p4rt/bytestring.js';
import { L2_ECHO_IDS, l2EchoDeviceConfig, l2EchoP4Info } from '../programs/l2-echo/l2-echo-p4info.js';
import { startSimSwitch } from '../sim-switch.js';
import type { SimSwitch } from '../sim-switch.js';
import type { SimSwitchOptions } from '../options.js';
import type { p4 } from 'p4runtime-ts/proto';
import { toUint128 } from 'p4runtime-ts/proto';
import { RawP4RuntimeClient } from './raw-client.js';
import type { RawStream, RpcOutcome } from './raw-client.js';

/** A switch with a connected primary controller. */
export interface SimFixture {
  readonly sw: SimSwitch;
  readonly client: RawP4RuntimeClient;
  readonly stream: RawStream;
  readonly deviceId: bigint;
  readonly electionId: bigint;
  /** Pushes l2_echo with `action` (default VERIFY_AND_COMMIT). */
  push(action?: number, cookie?: bigint): Promise<RpcOutcome>;
  /** A Write from the primary. */
  write(updates: p4.v1.Update.$Properties[], atomicity?: number): Promise<RpcOutcome>;
  close(): Promise<void>;
}

export { l2EchoDeviceConfig };

/** Starts a switch, arbitrates as primary and (unless `push: false`) pushes l2_echo. */
export async function startFixture(options: SimSwitchOptions & { readonly electionId?: bigint; readonly push?: boolean } = {}): Promise<SimFixture> {
  const sw = await startSimSwitch(options);
  const client = new RawP4RuntimeClient(sw.address);
  const stream = client.stream();
  const electionId = options.electionId ?? 10n;
  stream.arbitrate({ deviceId: sw.deviceId, electionId });
  await stream.nextArbitration();
  const push = (action = 3, cookie?: bigint): Promise<RpcOutcome> =>
    client.setPipeline({
      deviceId: Number(sw.deviceId),
      electionId: toUint128(electionId),
      action,
      config: { p4info: l2EchoP4Info(), p4DeviceConfig: l2EchoDeviceConfig(sw.profile.name), ...(cookie !== undefined ? { cookie: { cookie: Number(cookie) } } : {}) },
    });
  if (options.push !== false) {
    const o = await push();
    if (o.code !== 0) throw new Error(`fixture: pipeline push failed: ${o.code} ${o.details}`);
  }
  return {
    sw,
    client,
    stream,
    deviceId: sw.deviceId,
    electionId,
    push,
    write: (updates, atomicity = 0) => client.write({ deviceId: Number(sw.deviceId), electionId: toUint128(electionId), updates, atomicity }),
    close: async () => {
      stream.cancel();
      client.close();
      await sw.stop();
    },
  };
}

const b = (v: bigint | number): Uint8Array => canonicalBytes(BigInt(v));

/** l2_echo request builders (raw ids, canonical bytes). */
export const l2 = {
  ids: L2_ECHO_IDS,
  bytes: b,
  macFwd(dst: bigint, action: { forward: number } | 'to_cpu' | 'drop', extra: Partial<p4.v1.TableEntry.$Properties> = {}): p4.v1.TableEntry.$Properties {
    return {
      tableId: L2_ECHO_IDS.tables.mac_fwd,
      match: [{ fieldId: 1, exact: { value: b(dst) } }],
      action: { action: typeof action === 'object' ? { actionId: L2_ECHO_IDS.actions.forward, params: [{ paramId: 1, value: b(action.forward) }] } : { actionId: L2_ECHO_IDS.actions[action] } },
      ...extra,
    };
  },
  macPrefix(dst: bigint, prefixLen: number, port: number): p4.v1.TableEntry.$Properties {
    return {
      tableId: L2_ECHO_IDS.tables.mac_prefix,
      match: [{ fieldId: 1, lpm: { value: b(dst), prefixLen } }],
      action: { action: { actionId: L2_ECHO_IDS.actions.forward, params: [{ paramId: 1, value: b(port) }] } },
    };
  },
  acl(o: { etherType?: [number, number]; ports?: [number, number]; src?: bigint; priority: number; deny?: boolean }): p4.v1.TableEntry.$Properties {
    const match: p4.v1.FieldMatch.$Properties[] = [];
    if (o.etherType) match.push({ fieldId: 1, ternary: { value: b(o.etherType[0]), mask: b(o.etherType[1]) } });
    if (o.ports) match.push({ fieldId: 2, range: { low: b(o.ports[0]), high: b(o.ports[1]) } });
    if (o.src !== undefined) match.push({ fieldId: 3, optional: { value: b(o.src) } });
    return { tableId: L2_ECHO_IDS.tables.acl, match, priority: o.priority, action: { action: { actionId: o.deny ? L2_ECHO_IDS.actions.deny : L2_ECHO_IDS.actions.allow } } };
  },
  insert: (tableEntry: p4.v1.TableEntry.$Properties): p4.v1.Update.$Properties => ({ type: 1, entity: { tableEntry } }),
  modify: (entity: p4.v1.Entity.$Properties): p4.v1.Update.$Properties => ({ type: 2, entity }),
  remove: (tableEntry: p4.v1.TableEntry.$Properties): p4.v1.Update.$Properties => ({ type: 3, entity: { tableEntry } }),
  /** An Ethernet frame (14-byte header + payload). */
  frame(dst: bigint, src: bigint, etherType: number, body = 'hello'): Uint8Array {
    const out = new Uint8Array(14 + body.length);
    for (let i = 0; i < 6; i++) {
      out[i] = Number((dst >> BigInt(8 * (5 - i))) & 0xffn);
      out[6 + i] = Number((src >> BigInt(8 * (5 - i))) & 0xffn);
    }
    out[12] = etherType >> 8;
    out[13] = etherType & 0xff;
    out.set(new TextEncoder().encode(body), 14);
    return out;
  },
};

/**
 * TEST HELPER — starts the test double with the fixture pipeline and connects P4Switch clients to
 * it over real gRPC on 127.0.0.1:0; `stop()` closes everything it opened.
 */
import { P4Switch } from '../p4-switch.js';
import type { P4SwitchOptions } from '../options.js';
import { FakeP4RuntimeServer } from './fake-p4rt-server.js';
import type { FakeP4RuntimeServerOptions } from './fake-p4rt-server.js';
import { testSchema } from './test-p4info.js';

/** A running double plus the switches connected to it. */
export interface Harness {
  readonly server: FakeP4RuntimeServer;
  /** Connects a client (device 1, the given election id) and tracks it for `stop()`. */
  connect(electionId: bigint, extra?: Partial<P4SwitchOptions>): Promise<P4Switch>;
  /** Connects as primary and pushes the fixture pipeline. */
  primaryWithPipeline(extra?: Partial<P4SwitchOptions>): Promise<P4Switch>;
  stop(): Promise<void>;
}

/** The fixture's device config (any bytes do for the double). */
export const TEST_DEVICE_CONFIG = Buffer.from('{"program":"test"}');

/** Starts a harness. */
export async function startHarness(options: FakeP4RuntimeServerOptions = {}): Promise<Harness> {
  const server = await new FakeP4RuntimeServer({ deviceId: 1n, ...options }).start();
  const switches: P4Switch[] = [];
  const connect = async (electionId: bigint, extra: Partial<P4SwitchOptions> = {}): Promise<P4Switch> => {
    const sw = await P4Switch.connect({ address: server.address, deviceId: 1, electionId, connectTimeoutMs: 5000, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...extra });
    switches.push(sw);
    return sw;
  };
  return {
    server,
    connect,
    primaryWithPipeline: async (extra = {}) => {
      const sw = await connect(100n, extra);
      await sw.ensurePipeline({ schema: testSchema(), deviceConfig: TEST_DEVICE_CONFIG });
      return sw;
    },
    stop: async () => {
      for (const sw of switches.splice(0)) await sw.close();
      server.stop();
    },
  };
}

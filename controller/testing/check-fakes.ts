/**
 * FAKE inputs for the migration check's tests only (preflight.test.ts, check-command.test.ts): an
 * inventory device reached in process and the capabilities a device claims, as plain values.
 */
import type { DeviceCapabilities } from '../../plugin/index.js';
import type { InventoryDevice } from '../inventory/inventory.js';

/** An edge device in front of no host, reached over P4Runtime at 127.0.0.1:1. */
export const fakeInventoryDevice = (name: string): InventoryDevice => ({
  name, address: '127.0.0.1:1', deviceId: 1n, plugin: undefined, electionId: 1n, p4runtimeRole: undefined, role: 'edge', tls: undefined,
  registerAccess: 'probe', grpcClient: 'http2', openStreamsAhead: true, p4info: undefined, deviceConfig: undefined, hosts: [], subnets: [], counterpart: undefined,
});

/** Capabilities of `name`: 1,000 slots in the group (`total`), `free` of them free, schema fingerprint `fingerprint`. */
export const fakeCapabilities = (name: string, free: number, fingerprint = 'f1', total = 1000): DeviceCapabilities => ({
  device: name, apiVersion: 1, stateClasses: ['tcp-state'], schema: { 'group:flow': fingerprint }, slots: { total, free },
  registerAccess: 'p4runtime', deltas: ['pull'], maxConcurrentMigrations: 4, keyFields: [{ name: 'k', bits: 32 }],
});

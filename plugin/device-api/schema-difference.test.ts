import { describe, expect, it } from 'vitest';
import type { DeviceCapabilities } from './device-api.js';
import { schemaDifferences } from './schema-difference.js';

const caps = (device: string, registers: [string, number][], key: [string, number][] = [['src', 32]]): DeviceCapabilities => ({
  device, apiVersion: 1, stateClasses: ['tcp-state'], schema: {}, slots: { total: 1, free: 1 }, registerAccess: 'p4runtime', deltas: ['pull'], maxConcurrentMigrations: 1,
  keyFields: key.map(([name, bits]) => ({ name, bits })), registers: registers.map(([name, bits]) => ({ name, bits })),
});

describe('schema difference — capability negotiation names what differs', () => {
  it('schema difference — a register at two widths names the register and both widths', () => {
    expect(schemaDifferences(caps('src', [['ct_state', 64], ['ct_key', 104]]), caps('dst', [['ct_state', 48], ['ct_key', 104]]))).toEqual(["register 'ct_state' is 64 bits at src but 48 bits at dst"]);
  });
  it('schema difference — a register or key field on one side only, and equal schemas', () => {
    expect(schemaDifferences(caps('src', [['a', 8]], [['src', 32], ['dport', 16]]), caps('dst', [['b', 8]]))).toEqual([
      "register 'a' (8 bits) exists at src, not at dst",
      "register 'b' (8 bits) exists at dst, not at src",
      "flow-key field 'dport' (16 bits) exists at src, not at dst",
    ]);
    expect(schemaDifferences(caps('src', [['a', 8]]), caps('dst', [['a', 8]]))).toEqual([]);
  });
});

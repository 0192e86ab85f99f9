import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { readMigrationContract, slotGroup } from '../contract/index.js';
import { STATEFUL_EDGE_P4INFO_PATH } from '../testing/stateful-edge-p4info.js';
import { checkIncomingBatch } from './batch-check.js';
import type { StateBatch } from './device-api.js';

const ct = slotGroup(readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH)), 'conntrack');
const flow = { vm_addr: 0x0a000005n, remote_addr: 0xc0000201n, vm_port: 40000n, remote_port: 443n, protocol: 6n, vm_id: 7n, state: 3n };
const key = { vm_addr: 0x0a000005n, remote_addr: 0xc0000201n, vm_port: 40000n, remote_port: 443n, protocol: 6n };
const batch = (slots: Record<string, unknown>[], removed: Record<string, unknown>[] = []): StateBatch =>
  ({ migrationId: 'm', round: 1, slots: slots.map((fields) => ({ fields })), removed, coversSeq: { from: 0n, to: 1n } }) as unknown as StateBatch;
const check = (b: StateBatch): void => checkIncomingBatch(ct, ['vm_tx'], b, 'test');

describe('batch check — what a destination refuses before writing anything', () => {
  it('batch check — takes declared fields within their widths, any subset of them, and key-only removals', () => {
    expect(() => check(batch([flow, { ...flow, bytes_in: (1n << 64n) - 1n }, {}], [key]))).not.toThrow();
  });

  it('batch check — refuses an undeclared field, a value past its width, a negative or non-bigint value, naming the record', () => {
    expect(() => check(batch([flow, { ...flow, tunnel: 1n }]))).toThrow(/slot 1 has field 'tunnel', which slot group 'conntrack' does not declare/);
    expect(() => check(batch([{ ...flow, protocol: 256n }]))).toThrow(/slot 0 field 'protocol' = 256 does not fit its 8 bits/);
    expect(() => check(batch([{ ...flow, vm_port: -1n }]))).toThrow(/slot 0 field 'vm_port' = -1 does not fit/);
    expect(() => check(batch([{ ...flow, state: 3 }]))).toThrow(/slot 0 field 'state' = 3 does not fit/);
    expect(() => check(batch([{ ...flow, state: undefined }]))).toThrow(/slot 0 field 'state' = undefined does not fit/);
  });

  it('batch check — a removed key carries key fields only', () => {
    expect(() => check(batch([], [{ ...key, state: 3n }]))).toThrow(/removed key 0 has field 'state', which is not a key field/);
    expect(() => check(batch([], [{ ...key, protocol: 300n }]))).toThrow(/removed key 0 field 'protocol' = 300 does not fit/);
  });
});

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FrameError, MessageDeframer, frameMessage } from './grpc-frames.js';

const msg = (n: number, fill = 7): Buffer => Buffer.alloc(n, fill);

describe('grpc-frames', () => {
  it('grpc-frames — a framed message has the zero flag and the big-endian length before it', () => {
    const f = frameMessage(Buffer.from([1, 2, 3]));
    expect([...f]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
    expect([...frameMessage(new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
  });

  it('grpc-frames — messages come back whole however the bytes are cut, empty ones included', () => {
    const parts = [msg(3, 1), msg(0), msg(70_000, 2), msg(1, 3)];
    const wire = Buffer.concat(parts.map(frameMessage));
    for (const cut of [1, 2, 5, 6, 4096, wire.length]) {
      const d = new MessageDeframer(1 << 20);
      const got: Buffer[] = [];
      for (let at = 0; at < wire.length; at += cut) got.push(...d.push(wire.subarray(at, at + cut)));
      expect(got.map((b) => [b.length, b[0]])).toEqual(parts.map((b) => [b.length, b[0]]));
      expect(d.buffered).toBe(0);
    }
  });

  it('grpc-frames — a partial message stays buffered and is counted', () => {
    const d = new MessageDeframer(1 << 20);
    expect(d.push(frameMessage(msg(10)).subarray(0, 8))).toEqual([]);
    expect(d.buffered).toBe(8);
  });

  it('grpc-frames — a message longer than the limit is RESOURCE_EXHAUSTED before its body arrives', () => {
    const d = new MessageDeframer(100);
    const head = frameMessage(msg(101)).subarray(0, 5);
    expect(() => d.push(head)).toThrow(FrameError);
    try {
      new MessageDeframer(100).push(head);
    } catch (e) {
      expect((e as FrameError).grpcCode).toBe(8);
      expect((e as Error).message).toContain('101 vs. 100');
    }
  });

  it('grpc-frames — a gzip message under grpc-encoding gzip is inflated; an unknown encoding or flag is INTERNAL', () => {
    const body = gzipSync(Buffer.from('hello'));
    const wire = Buffer.concat([Buffer.from([1, 0, 0, 0, body.length]), body]);
    expect(new MessageDeframer(1 << 20, 'gzip').push(wire).map(String)).toEqual(['hello']);
    const unknown = (): unknown => new MessageDeframer(1 << 20, 'snappy').push(wire);
    expect(unknown).toThrow(/snappy/);
    const badFlag = Buffer.from([2, 0, 0, 0, 0]);
    expect(() => new MessageDeframer(1 << 20).push(badFlag)).toThrow(/compressed-flag byte 2/);
  });

  it('grpc-frames — a compressed message that inflates past the limit is RESOURCE_EXHAUSTED', () => {
    const body = gzipSync(Buffer.alloc(10_000));
    const wire = Buffer.concat([Buffer.from([1]), Buffer.from([0, 0, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
    let err: unknown;
    try {
      new MessageDeframer(1000, 'gzip').push(wire);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).grpcCode).toBe(8);
  });
});

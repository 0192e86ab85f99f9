import { describe, expect, it } from 'vitest';
import { JsonFramer } from './json-framer.js';
import { parseQmpMessage } from './messages.js';

describe('qmp framing and message classification', () => {
  it('qmp framing — splits CRLF-separated messages delivered in arbitrary chunks', () => {
    const f = new JsonFramer(1024);
    const text = '{"return": {}, "id": "a"}\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n';
    const out: string[] = [];
    for (const ch of text) out.push(...f.push(ch));
    expect(out.map((t) => JSON.parse(t) as unknown)).toEqual([{ return: {}, id: 'a' }, { event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } }]);
  });

  it('qmp framing — pretty-printed messages spanning lines, and braces inside strings, are one message each', () => {
    const f = new JsonFramer(1024);
    const out = f.push('{\n  "error": {\n    "class": "GenericError",\n    "desc": "bad \\"}\\" {"\n  },\n  "id": "x"\n}\n{"return"');
    expect(out).toHaveLength(1);
    expect(parseQmpMessage(out[0]!)).toEqual({ kind: 'error', id: 'x', qmpClass: 'GenericError', desc: 'bad "}" {' });
    expect(f.push(': 5}')).toEqual(['{"return": 5}']);
  });

  it('qmp framing — text outside an object, or a message past the size limit, is a PROTOCOL error', () => {
    expect(() => new JsonFramer(1024).push('hello')).toThrow(/where a JSON object should start/);
    const f = new JsonFramer(16);
    expect(() => f.push('{"return": "aaaaaaaaaaaaaaaaaaaaa')).toThrow(/exceeds 16 characters/);
  });

  it('qmp messages — an event keeps QEMU timestamp in ms with microseconds; unknown shapes are refused', () => {
    expect(parseQmpMessage('{"event":"RESUME","timestamp":{"seconds":1796200016,"microseconds":158751}}')).toEqual({
      kind: 'event', event: 'RESUME', data: {}, timestampMs: 1796200016158.751,
    });
    expect(() => parseQmpMessage('[1,2]')).toThrow(/not a JSON object/);
    expect(() => parseQmpMessage('{"hello": 1}')).toThrow(/neither greeting, reply nor event/);
    expect(() => parseQmpMessage('{"event":"STOP"}')).toThrow(/event without timestamp/);
    expect(() => parseQmpMessage('{"error":"x","id":"1"}')).toThrow(/error reply without class and desc/);
  });
});

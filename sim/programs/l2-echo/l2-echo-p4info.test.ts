import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseP4InfoText } from 'p4runtime-ts';
import { p4 } from 'p4runtime-ts/proto';
import { l2EchoP4Info } from './l2-echo-p4info.js';

describe('l2_echo P4Info — text format and object agree', () => {
  it('l2_echo P4Info — l2_echo.p4info.txtpb parses to exactly the TypeScript object', () => {
    const text = readFileSync(new URL('./l2_echo.p4info.txtpb', import.meta.url), 'utf8');
    const parsed = parseP4InfoText(text, { source: 'l2_echo.p4info.txtpb' });
    const opts = { longs: String, enums: String, bytes: String, defaults: false };
    expect(p4.config.v1.P4Info.toObject(parsed, opts)).toEqual(p4.config.v1.P4Info.toObject(l2EchoP4Info(), opts));
  });

  it('l2_echo P4Info — every table, action, counter, register and digest of the P4 source is in the P4Info', () => {
    const source = readFileSync(new URL('./l2_echo.p4', import.meta.url), 'utf8');
    const info = l2EchoP4Info();
    const declared = [...source.matchAll(/^\s*(?:table|action)\s+(\w+)|(?:counter|register<bit<\d+>>|direct_counter)\s*\([^)]*\)\s*(\w+);/gm)].map((m) => m[1] ?? m[2]);
    const names = [...info.tables, ...info.actions, ...info.counters, ...info.directCounters, ...info.registers].map((x) => x.preamble?.alias);
    for (const d of declared) expect(names, `${d} missing from the P4Info`).toContain(d);
    expect(new Set(declared)).toEqual(new Set(names.filter((n) => n !== 'NoAction')));
    expect(source).toContain('digest<learn_t>');
    expect(info.digests.map((d) => d.preamble?.name)).toEqual(['learn_t']);
  });
});

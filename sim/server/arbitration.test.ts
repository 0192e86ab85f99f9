import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { fromUint128 } from 'p4runtime-ts/proto';
import type { p4 } from 'p4runtime-ts/proto';
import { HighestConnectedArbiter, SpecArbiter } from './arbitration.js';
import type { ControllerSession } from './arbitration.js';
import { messagesFor } from '../messages.js';

class FakeSession implements ControllerSession {
  static next = 1;
  readonly sessionId = FakeSession.next++;
  readonly got: p4.v1.MasterArbitrationUpdate.$Properties[] = [];
  send(m: p4.v1.StreamMessageResponse.$Properties): void {
    if (m.arbitration) this.got.push(m.arbitration);
  }
  last(): { code: number; message: string; electionId: bigint | null } {
    const a = this.got[this.got.length - 1];
    return { code: a?.status?.code ?? -1, message: a?.status?.message ?? '', electionId: a?.electionId ? fromUint128(a.electionId) : null };
  }
}

const req = (electionId: bigint | null, role = '') => ({ deviceId: 1n, role, roleConfig: null, electionId });

describe('arbitration — spec model', () => {
  it('arbitration — highest election id is primary; others told ALREADY_EXISTS with the primary id', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    const s10 = new FakeSession();
    const s5 = new FakeSession();
    expect(a.update(s10, req(10n))).toEqual({ ok: true });
    expect(s10.last()).toEqual({ code: status.OK, message: 'Is primary', electionId: 10n });
    expect(a.update(s5, req(5n))).toEqual({ ok: true });
    expect(s5.last()).toMatchObject({ code: status.ALREADY_EXISTS, electionId: 10n });
    expect(s10.got).toHaveLength(1);
    expect(a.checkPrimary('', 10n)).toEqual({ ok: true });
    expect(a.checkPrimary('', 5n)).toMatchObject({ ok: false, code: status.PERMISSION_DENIED });
    expect(a.checkPrimary('', null)).toMatchObject({ ok: false, code: status.PERMISSION_DENIED });
  });

  it('arbitration — before any controller: the default role has no primary (PERMISSION_DENIED), other roles are unknown (NOT_FOUND)', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    expect(a.checkPrimary('', null)).toMatchObject({ ok: false, code: status.PERMISSION_DENIED });
    expect(a.checkPrimary('x', 1n)).toMatchObject({ ok: false, code: status.NOT_FOUND });
  });

  it('arbitration — a duplicate live election id is INVALID_ARGUMENT', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    a.update(new FakeSession(), req(10n));
    expect(a.update(new FakeSession(), req(10n))).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, message: expect.stringMatching(/^Election id already exists/) });
  });

  it('arbitration — primary = highest id ever seen: after the primary leaves, a lower id stays backup (NOT_FOUND)', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    const hi = new FakeSession();
    const lo = new FakeSession();
    a.update(hi, req(10n));
    a.update(lo, req(5n));
    a.remove(hi);
    expect(lo.last()).toMatchObject({ code: status.NOT_FOUND, electionId: 10n });
    expect(a.primaries()).toEqual([]);
    a.update(lo, req(9n));
    expect(lo.last().code).toBe(status.NOT_FOUND);
    a.update(lo, req(10n));
    expect(lo.last()).toMatchObject({ code: status.OK, electionId: 10n });
  });

  it('arbitration — a new primary is announced to everyone', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    const s1 = new FakeSession();
    const s2 = new FakeSession();
    a.update(s1, req(1n));
    a.update(s2, req(2n));
    expect(s1.last()).toMatchObject({ code: status.ALREADY_EXISTS, electionId: 2n });
    expect(s2.last()).toMatchObject({ code: status.OK, electionId: 2n });
  });

  it('arbitration — unset election ids are never primary and may repeat', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    const s1 = new FakeSession();
    const s2 = new FakeSession();
    expect(a.update(s1, req(null))).toEqual({ ok: true });
    expect(a.update(s2, req(null))).toEqual({ ok: true });
    expect(s1.last()).toEqual({ code: status.NOT_FOUND, message: expect.any(String) as string, electionId: null });
    expect(a.primaries()).toEqual([]);
  });

  it('arbitration — roles have independent primaries; an unknown role is NOT_FOUND', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    const def = new FakeSession();
    const mig = new FakeSession();
    a.update(def, req(10n));
    a.update(mig, req(10n, 'carryover'));
    expect(a.primaries()).toHaveLength(2);
    expect(a.checkPrimary('carryover', 10n)).toEqual({ ok: true });
    expect(a.checkPrimary('other', 10n)).toMatchObject({ ok: false, code: status.NOT_FOUND });
    expect(a.update(mig, req(11n, 'different'))).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION });
  });

  it('arbitration — a primary that downgrades itself leaves no primary and tells everyone', () => {
    const a = new SpecArbiter(1n, messagesFor('spec'), 8);
    const s1 = new FakeSession();
    const s2 = new FakeSession();
    a.update(s1, req(10n));
    a.update(s2, req(5n));
    a.update(s1, req(3n));
    expect(a.primaries()).toEqual([]);
    expect(s2.last().code).toBe(status.NOT_FOUND);
    expect(s1.last().code).toBe(status.NOT_FOUND);
  });
});

describe('arbitration — PI model (bmv2)', () => {
  it('arbitration — primary = highest connected: when the primary leaves, the next one takes over', () => {
    const a = new HighestConnectedArbiter(1n, messagesFor('pi'), 16);
    const hi = new FakeSession();
    const lo = new FakeSession();
    a.update(hi, req(10n));
    a.update(lo, req(5n));
    expect(lo.last()).toEqual({ code: status.ALREADY_EXISTS, message: 'Is backup', electionId: 10n });
    a.remove(hi);
    expect(lo.last()).toEqual({ code: status.OK, message: 'Is primary', electionId: 5n });
    expect(a.checkPrimary('', 5n)).toEqual({ ok: true });
  });

  it('arbitration — roles are ignored: one primary for every role', () => {
    const a = new HighestConnectedArbiter(1n, messagesFor('pi'), 16);
    const s1 = new FakeSession();
    a.update(s1, req(10n, 'a'));
    a.update(new FakeSession(), req(11n, 'b'));
    expect(a.primaries()).toHaveLength(1);
    expect(a.checkPrimary('a', 11n)).toEqual({ ok: true });
  });

  it('arbitration — duplicate id "Election id already exists"; no connections accept unset-id writes only', () => {
    const a = new HighestConnectedArbiter(1n, messagesFor('pi'), 16);
    expect(a.checkPrimary('', null)).toEqual({ ok: true });
    expect(a.checkPrimary('', 1n)).toEqual({ ok: false, code: status.PERMISSION_DENIED, message: 'Not primary' });
    a.update(new FakeSession(), req(10n));
    expect(a.update(new FakeSession(), req(10n))).toEqual({ ok: false, code: status.INVALID_ARGUMENT, message: 'Election id already exists' });
  });

  it('arbitration — at most 16 connections (RESOURCE_EXHAUSTED)', () => {
    const a = new HighestConnectedArbiter(1n, messagesFor('pi'), 16);
    for (let i = 1; i <= 16; i++) expect(a.update(new FakeSession(), req(BigInt(i)))).toEqual({ ok: true });
    expect(a.update(new FakeSession(), req(99n))).toMatchObject({ ok: false, code: status.RESOURCE_EXHAUSTED });
  });
});

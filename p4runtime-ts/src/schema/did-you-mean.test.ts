import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { editDistance, suggest } from './did-you-mean.js';

describe('schema/did-you-mean — edit distance', () => {
  it.each([
    ['', '', 0],
    ['acl', 'acl', 0],
    ['acll', 'acl', 1],
    ['acl', 'alc', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('schema/did-you-mean — d(%s, %s) = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  it('schema/did-you-mean — distance is symmetric and zero only for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('schema/did-you-mean — suggest', () => {
  it('schema/did-you-mean — ranks closest first and drops far names', () => {
    expect(suggest('acll', ['acl', 'route', 'acl_counter'])).toEqual(['acl']);
    expect(suggest('flowstate', ['flow_state', 'flow_counter'])).toEqual(['flow_state']);
    expect(suggest('zzz', ['acl', 'route'])).toEqual([]);
  });

  it('schema/did-you-mean — case slips and containment count', () => {
    expect(suggest('ACL', ['acl'])).toEqual(['acl']);
    expect(suggest('conntrack', ['LabIngress.conntrack'])).toEqual(['LabIngress.conntrack']);
  });
});

import { describe, expect, it } from 'vitest';
import { proofText } from './final-proofs.js';

describe('final proofs — in words for the reports', () => {
  it('final proofs — one kind names it; several name each source; none says nothing', () => {
    expect(proofText({ 'tor-1': 'change-numbers' })).toBe(', proven complete by the numbered change digests');
    expect(proofText({ a: 'change-log', b: 'change-log' })).toBe(', proven complete by the change log');
    expect(proofText({ a: 'change-numbers', b: 'change-log' })).toBe(', proven complete by the numbered change digests (a), the change log (b)');
    expect(proofText({})).toBe('');
  });
});

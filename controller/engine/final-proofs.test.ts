import { describe, expect, it } from 'vitest';
import { proofText } from './final-proofs.js';

describe('final proofs — in words for the reports', () => {
  it('final proofs — one kind names it; several name each source; none says nothing', () => {
    expect(proofText({ 'tor-1': 'change-numbers' }, 12)).toBe(', proven complete by the numbered change digests');
    expect(proofText({ a: 'change-log', b: 'change-log' }, 3)).toBe(', proven complete by the change log');
    expect(proofText({ a: 'change-numbers', b: 'change-log' }, 1)).toBe(', proven complete by the numbered change digests (a), the change log (b)');
    expect(proofText({}, 5)).toBe('');
    expect(proofText({}, 0)).toBe('');
  });

  it('final proofs — a final delta of no slot says plainly that nothing changed, proven from the data plane\'s record', () => {
    expect(proofText({ 'tor-1': 'change-numbers' }, 0)).toBe(": no flow changed since pre-copy's last round, proven from the data plane's record (the numbered change digests)");
    expect(proofText({ a: 'change-log', b: 'change-log' }, 0)).toBe(": no flow changed since pre-copy's last round, proven from the data plane's record (the change log)");
    expect(proofText({ a: 'change-numbers', b: 'change-log' }, 0)).toBe(": no flow changed since pre-copy's last round, proven from the data plane's record (a: the numbered change digests; b: the change log)");
    expect(proofText({ a: 'change-numbers' }, 0)).not.toMatch(/proven complete/);
  });
});

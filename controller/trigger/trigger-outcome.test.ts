import { describe, expect, it } from 'vitest';
import { failureOf } from './trigger-outcome.js';

describe('trigger outcome — why an ended migration failed', () => {
  const sent = (outcome: 'late' | 'cancelled', detail?: string) => ({ at: 10, sent: 'migrate_cancel' as const, outcome, detail });
  it('trigger outcome — completed is no failure; a cancel the pause window sent is the deadline or the handler, with its detail', () => {
    expect(failureOf('completed', sent('late'), undefined, undefined)).toBeUndefined();
    expect(failureOf('cancelled', sent('late', 'sync took 80 ms'), undefined, undefined)).toEqual({ code: 'pause-deadline', message: 'sync took 80 ms' });
    expect(failureOf('cancelled', sent('late'), undefined, undefined)?.message).toBe('the pause deadline passed; the migration was cancelled');
    expect(failureOf('cancelled', sent('cancelled'), undefined, undefined)).toEqual({ code: 'pause-cancelled', message: 'the pause handler cancelled the migration' });
  });
  it('trigger outcome — another cancel names who; a failure carries QEMU\'s error-desc, or says it gave none', () => {
    expect(failureOf('cancelled', undefined, 'the engine refused', undefined)).toEqual({ code: 'qemu-cancelled', message: 'the trigger cancelled the migration: the engine refused' });
    expect(failureOf('cancelled', undefined, undefined, undefined)?.message).toMatch(/by someone other than the trigger/);
    expect(failureOf('failed', sent('late'), undefined, 'Unable to write to socket')).toEqual({ code: 'qemu-failed', message: 'Unable to write to socket' });
    expect(failureOf('failed', undefined, undefined, undefined)?.message).toMatch(/gave no error-desc/);
  });
});

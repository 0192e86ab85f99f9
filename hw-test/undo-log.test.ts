import { describe, expect, it } from 'vitest';
import { UndoLog } from './undo-log.js';

describe('hw-test undo log — reverting', () => {
  it('reverts newest first, skips released steps, and keeps going past a failure', async () => {
    const log = new UndoLog();
    const done: string[] = [];
    log.add('a', async () => void done.push('a'));
    log.add('b', async () => {
      throw new Error('b broke');
    });
    log.add('c', async () => void done.push('c')).release();
    log.add('d', async () => void done.push('d'));
    log.note('something could not be restored');
    expect(log.pending()).toBe(3);
    const out = await log.revertAll();
    expect(done).toEqual(['d', 'a']);
    expect(out).toEqual({ recorded: 4, reverted: 2, failures: [{ what: 'b', error: 'b broke' }], notes: ['something could not be restored'] });
    expect(log.pending()).toBe(0);
  });

  it('runs a step reverted early only once', async () => {
    const log = new UndoLog();
    let n = 0;
    const h = log.add('x', async () => void n++);
    await h.revert();
    await h.revert();
    await log.revertAll();
    expect(n).toBe(1);
  });
});

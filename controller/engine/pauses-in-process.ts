/**
 * How many migrations of this process are in their pause window right now. Garbage collection
 * stops the whole process, so a migration that would collect during its pre-copy (old-headroom.ts)
 * first checks that no other migration's VM is waiting on this process.
 *
 * @example
 * ```ts
 * const leave = enterPause();
 * try { … the pause-window sync … } finally { leave(); }
 * ```
 */
let open = 0;

/** Marks a pause window open; the returned function closes it (once; later calls do nothing). */
export function enterPause(): () => void {
  open++;
  let left = false;
  return () => {
    if (left) return;
    left = true;
    open--;
  };
}

/** Pause windows open in this process. */
export function pausesInProcess(): number {
  return open;
}

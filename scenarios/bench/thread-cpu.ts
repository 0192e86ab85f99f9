/**
 * CPU time of this process's main thread — the event loop, where a pause's steps run one after
 * another — apart from V8's helper threads (parallel scavenges, concurrent marking, compilers),
 * which run beside it. Linux only (`/proc/self/task/<tid>/schedstat`, nanoseconds).
 */
import { readFileSync } from 'node:fs';

/** CPU ms the main thread has used so far, or undefined where /proc is absent. */
export function mainThreadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

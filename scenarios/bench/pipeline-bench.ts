/** placeholder: written by the plugin work in this session */
import type { BenchRow } from './results.js';
export async function runPipelineBench(): Promise<BenchRow[]> {
  throw new Error('bench pipeline: not available yet');
}

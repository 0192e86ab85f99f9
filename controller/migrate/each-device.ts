/** Calling one recovery step at several devices at once, failures collected by name. */

/** Runs `step` at every named device at once; collects values and failures (named). */
export async function eachDevice<T>(names: readonly string[], step: (n: string) => Promise<T>): Promise<{ values: T[]; failed: string[]; errors: string[] }> {
  const values: T[] = [];
  const failed: string[] = [];
  const errors: string[] = [];
  await Promise.all(names.map(async (n) => {
    try {
      values.push(await step(n));
    } catch (e) {
      failed.push(n);
      errors.push(`${n}: ${(e as Error).message}`);
    }
  }));
  return { values, failed, errors };
}

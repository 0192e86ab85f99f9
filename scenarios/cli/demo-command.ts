/** `carryover demo` — placeholder until the plugin lands (replaced in this session). */
export async function runDemoCommand(_argv: string[]): Promise<number> {
  console.error('carryover demo: not available yet. Nothing was done.');
  return 2;
}

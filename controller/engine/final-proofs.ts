/**
 * How a pause's final deltas were proven complete (PauseSyncResult.proofs), in words for the
 * reports of `carryover migrate` and `carryover demo`. A final delta of no slot is said so plainly:
 * nothing changed, and the data plane's record shows it.
 *
 * @example
 * proofText({ 'tor-1': 'change-numbers' }, 12); // ", proven complete by the numbered change digests"
 * proofText({ 'tor-1': 'change-numbers' }, 0); // ": no flow changed since pre-copy's last round, proven from the data plane's record (the numbered change digests)"
 */

const say = (p: string): string => (p === 'change-numbers' ? 'the numbered change digests' : p === 'change-log' ? 'the change log' : p);

/** How a final delta of `slots` slots was proven, for the report: a suffix (empty when no source said). */
export function proofText(proofs: Readonly<Record<string, string>>, slots: number): string {
  const kinds = [...new Set(Object.values(proofs))];
  if (kinds.length === 0) return '';
  if (slots === 0) {
    const record = kinds.length === 1 ? say(kinds[0] as string) : Object.entries(proofs).map(([d, p]) => `${d}: ${say(p)}`).join('; ');
    return `: no flow changed since pre-copy's last round, proven from the data plane's record (${record})`;
  }
  if (kinds.length === 1) return `, proven complete by ${say(kinds[0] as string)}`;
  return `, proven complete by ${Object.entries(proofs).map(([d, p]) => `${say(p)} (${d})`).join(', ')}`;
}

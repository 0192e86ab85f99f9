/**
 * How a pause's final deltas were proven complete (PauseSyncResult.proofs), in words for the
 * reports of `carryover migrate` and `carryover demo`.
 *
 * @example
 * proofText({ 'tor-1': 'change-numbers' }); // ", proven complete by the numbered change digests"
 */
/** How the final deltas were proven complete, for the report: ", proven by …" (empty when no source said). */
export function proofText(proofs: Readonly<Record<string, string>>): string {
  const say = (p: string): string => (p === 'change-numbers' ? 'the numbered change digests' : p === 'change-log' ? 'the change log' : p);
  const kinds = [...new Set(Object.values(proofs))];
  if (kinds.length === 0) return '';
  if (kinds.length === 1) return `, proven complete by ${say(kinds[0] as string)}`;
  return `, proven complete by ${Object.entries(proofs).map(([d, p]) => `${say(p)} (${d})`).join(', ')}`;
}

/** The ids of hw-test's check groups, in run order (the registry in groups/ holds their code). */
export const HW_TEST_GROUP_IDS = ['conformance', 'differential', 'placement', 'state-access', 'migration'] as const;

/** One group id. */
export type HwTestGroupId = (typeof HW_TEST_GROUP_IDS)[number];

/** True when `x` names a group. */
export function isHwTestGroupId(x: string): x is HwTestGroupId {
  return (HW_TEST_GROUP_IDS as readonly string[]).includes(x);
}

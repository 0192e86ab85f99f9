/**
 * hw-test — the validation suite a lab runs against a real switch (BMv2, Tofino) or CI runs
 * against the sim: `runHwTest(options)` returns a report; `runHwTestCommand(argv)` is
 * `carryover hw-test`.
 */
export { runHwTest } from './run-hw-test.js';
export { runHwTestCommand } from './cli.js';
export type { HwTestCommandIo } from './cli.js';
export { DEFAULT_HW_TEST_OPTIONS, parseHwTestOptions } from './options.js';
export type { HwTestOptions, HwTestProgress, HwTestTls, ParsedHwTestOptions } from './options.js';
export { DEFAULT_FIXTURE, parseFixtureSpec } from './fixture-spec.js';
export type { FixtureSpec, FixtureVm } from './fixture-spec.js';
export { HW_TEST_ERROR_CODES, HwTestError } from './errors.js';
export type { HwTestErrorCode } from './errors.js';
export { HW_TEST_GROUP_IDS, isHwTestGroupId } from './group-ids.js';
export type { HwTestGroupId } from './group-ids.js';
export { HW_TEST_GROUPS, hwTestGroup } from './groups/registry.js';
export type { HwTestGroup } from './groups/group.js';
export { HW_TEST_PROFILE_NAMES, hwTestProfile } from './profiles.js';
export type { HwTestProfile, HwTestProfileName } from './profiles.js';
export { outcomes, summarize, summaryLine } from './report/types.js';
export type { CheckResult, CheckStatus, GroupResult, HwTestReport, ReportSummary } from './report/types.js';
export { renderMarkdown } from './report/markdown.js';
export { renderJunit } from './report/junit.js';
export { renderJson } from './report/json.js';
export { STATEFUL_EDGE_DEFAULT_ACTIONS } from './checks/tables.js';

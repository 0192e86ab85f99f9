/** The shape of a check group: an id, a title, and a run that records its checks. */
import type { GroupRecorder } from '../check-recorder.js';
import type { HwTestGroupId } from '../group-ids.js';
import type { HwTestSession } from '../session.js';

/** One group of checks. */
export interface HwTestGroup {
  readonly id: HwTestGroupId;
  readonly title: string;
  /** Runs every check of the group; checks record themselves and never throw. */
  run(s: HwTestSession, rec: GroupRecorder): Promise<void>;
}

/**
 * Group 5 — migration between two targets (`--peer HOST:PORT`). A placeholder with its place in
 * the registry: it reports UNSUPPORTED, never PASS, until a migration between two targets is built
 * as hw-test checks (the engine exists; scenarios/bench/migrate-real-bmv2.test.ts runs one between
 * two real BMv2 switches).
 */
import { unsupported } from '../check-recorder.js';
import type { HwTestGroup } from './group.js';

/** The migration group. */
export const migrationGroup: HwTestGroup = {
  id: 'migration',
  title: '5. Migration between two targets',
  async run(s, rec) {
    rec.record(
      'migration',
      'migrate a VM state to the peer',
      unsupported(`migration group: not built yet as hw-test checks (a migration between two real BMv2 switches runs in scenarios/bench/migrate-real-bmv2.test.ts)${s.o.peer ? ` (peer ${s.o.peer} accepted, not contacted)` : ' (and it needs --peer HOST:PORT)'}`),
    );
  },
};

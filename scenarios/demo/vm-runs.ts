/**
 * The demos' running VM: once pre-copy has begun, `steps` traffic steps `stepMs` apart, then the
 * VM pauses (`paused$` fires) — the moment a hypervisor would stop it.
 */
import type { Subject } from 'rxjs';
import type { MigrationMachine } from '../../controller/index.js';
import { eventually } from '../edge-rig.js';

/** Resolves after the VM ran its steps during pre-copy and `paused$` fired. */
export async function vmRunsThenPauses(machine: MigrationMachine, o: { readonly steps: number; readonly stepMs: number; readonly step: () => void; readonly paused$: Subject<void> }): Promise<void> {
  await eventually(() => machine.state.phase === 'PRECOPY', 60_000, 5);
  for (let i = 0; i < o.steps; i++) {
    o.step();
    await new Promise((r) => setTimeout(r, o.stepMs));
  }
  o.paused$.next();
}

/**
 * `carryover demo --vm qemu`: the VM is a real QEMU process migrated to a second one on loopback.
 * QEMU's phases drive the migration engine through the QEMU trigger: the VM's traffic runs while
 * QEMU copies memory (pre-copy), stops exactly when QEMU stops the VM (pre-switchover: the
 * pause-window sync runs while QEMU waits), and carryover commits once QEMU reports completed.
 */
import { engineAsPhaseHandler, reasonOfError } from '../../controller/index.js';
import type { EngineRun, MigrationEngine, MigrationPhaseHandler } from '../../controller/index.js';
import { QemuTrigger } from '../../controller/index.js';
import { startQemuPair } from '../../controller/testing/qemu-pair.js';

/** What the VM side of the demo does at each QEMU phase. */
export interface QemuVmHooks {
  /** One step of the VM's traffic (called every `stepMs` while QEMU copies memory). */
  readonly step: () => void;
  readonly stepMs: number;
  /** The VM stopped: wait until its last packets reached the switches (inside the pause window). */
  readonly drain: () => Promise<void>;
  /** Reads what the source held at the freeze (after QEMU was released, before the commit). */
  readonly observe: () => Promise<void>;
  readonly progress: (line: string) => void;
}

/** QEMU's view of the migration. */
export interface QemuVmReport {
  readonly qemuDowntimeMs: number | undefined;
  /** How long carryover held QEMU in pre-switchover. */
  readonly heldMs: number | undefined;
  /** The VM's own downtime: its STOP at the source to its RESUME at the destination (QEMU's timestamps). */
  readonly guestDowntimeMs: number | undefined;
  readonly destinationStatus: string | undefined;
  readonly outcome: string;
}

/** Migrates a real QEMU VM while `engine` moves its network state; the engine must not be prepared yet. */
export async function migrateWithQemu(engine: MigrationEngine, hooks: QemuVmHooks, pauseDeadlineMs: number): Promise<{ run: EngineRun; qemu: QemuVmReport }> {
  const pair = await startQemuPair();
  try {
    hooks.progress(`QEMU VMs started: source pid ${pair.source.pid}, destination pid ${pair.destination.pid} (incoming ${pair.incomingUri})`);
    try {
      await engine.prepare();
    } catch (e) {
      // Refused before QEMU moved anything: roll back the devices, leave QEMU alone.
      const { reason, detail } = reasonOfError(e);
      await engine.abort(reason, detail);
      return { run: { rounds: [], sync: undefined, committed: undefined, aborted: { reason, detail } }, qemu: { qemuDowntimeMs: undefined, heldMs: undefined, guestDowntimeMs: undefined, destinationStatus: undefined, outcome: 'not started' } };
    }
    const h = engineAsPhaseHandler(engine);
    let stopped = false;
    let loop: Promise<void> = Promise.resolve();
    let observed: Promise<void> = Promise.resolve();
    const handler: MigrationPhaseHandler = {
      onPrecopy: (info) => {
        hooks.progress('QEMU copies memory: pre-copy while the VM runs');
        loop = (async () => {
          while (!stopped) {
            hooks.step();
            await new Promise((r) => setTimeout(r, hooks.stepMs));
          }
        })();
        return h.handler.onPrecopy(info);
      },
      onPause: async (w) => {
        // QEMU stopped the VM: so does its traffic.
        stopped = true;
        await loop;
        await hooks.drain();
        const outcome = await h.handler.onPause(w);
        // Measured after QEMU's release (the source stays frozen until the commit).
        observed = hooks.observe();
        observed.catch(() => undefined); // awaited (and its failure reported) at completion
        return outcome;
      },
      onCompleted: async (r) => {
        await observed.catch((e: unknown) => hooks.progress(`could not read the source's state at the freeze: ${(e as Error).message}`));
        await h.handler.onCompleted(r);
      },
      onFailed: async (f, r) => {
        stopped = true;
        await loop;
        await h.handler.onFailed(f, r);
      },
    };
    const trigger = await QemuTrigger.attach({ source: pair.source.qmpAddress, destination: pair.destination.qmpAddress, handler, pauseDeadlineMs, onDeadline: h.onDeadline, destinationTimeoutMs: 60_000 });
    try {
      await trigger.startMigration(pair.incomingUri);
      const run = await h.done;
      const r = await trigger.finished;
      hooks.progress(`QEMU: migration ${r.outcome}, downtime ${r.qemuDowntimeMs ?? '?'} ms (carryover held it ${r.pause?.heldMs?.toFixed(1) ?? '?'} ms; the VM itself was down ${r.guestDowntimeMs?.toFixed(1) ?? '?'} ms, stop to resume), destination ${r.destinationStatus ?? '?'}`);
      return { run, qemu: { qemuDowntimeMs: r.qemuDowntimeMs, heldMs: r.pause?.heldMs, guestDowntimeMs: r.guestDowntimeMs, destinationStatus: r.destinationStatus, outcome: r.outcome } };
    } finally {
      await trigger.close();
    }
  } finally {
    await pair.stop();
  }
}

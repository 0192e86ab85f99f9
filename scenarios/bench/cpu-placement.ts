/**
 * Where a QEMU bench ran, for its rows' notes: QEMU's CPUs (bench --qemu-cpus) beside this
 * process's own, whose sim workers inherit them — a figure measured with QEMU competing for the
 * controller's cores does not read like one measured apart from them.
 */

/**
 * A note on CPU placement: QEMU's list (undefined: not placed) and this process's; `own` is
 * explicit (null: unknown) so that an undefined argument never silently reads /proc.
 */
export function cpuPlacement(qemuCpus: string | undefined, own: string | null): string {
  const here = own ?? 'unknown';
  if (qemuCpus === undefined) return `QEMU, carryover and the switches share CPUs ${here}`;
  return `QEMU on CPUs ${qemuCpus} (taskset), carryover and the switches on CPUs ${here}`;
}

/**
 * Counter checks: an indirect counter read one cell and wildcard (every cell), MODIFY and read
 * back (then restored); the dynamic-ACL table's direct counter written, read back, and counted up
 * by a packet that hits its entry.
 */
import { fail, pass } from '../check-recorder.js';
import type { CheckOutcome } from '../check-recorder.js';
import { deleteEntry, ensureFixture, recordInsert } from '../fixture.js';
import type { HwTestSession } from '../session.js';
import { udpFrameFor } from './frames.js';
import { dynAclKey } from './tables.js';

/** The per-VM counter the checks use (the contract's first @migrate_counter). */
function vmCounter(s: HwTestSession): string {
  return s.contract.counters[0]?.counter ?? 'vm_tx';
}

/** One cell and a wildcard read of an indirect counter. */
export async function checkCounterRead(s: HwTestSession): Promise<CheckOutcome> {
  const name = vmCounter(s);
  const info = s.schema.counter(name);
  const index = s.o.fixture.vms[0]?.vmId ?? 0;
  const one = await s.sw.readAll(s.sw.counter(name).at(index));
  if (one.length !== 1 || one[0]?.index !== index) return fail(`reading ${name}[${index}] returned ${one.length} cells${one[0] ? ` (index ${one[0].index})` : ''}; expected exactly that cell`);
  const all = await s.sw.readAll(s.sw.counter(name).all());
  const indices = new Set(all.map((c) => c.index));
  if (all.length !== info.size || indices.size !== info.size) return fail(`a wildcard read of ${name} returned ${all.length} cells (${indices.size} distinct); the counter has ${info.size}`);
  return pass(`${name}[${index}] read; wildcard read returned all ${info.size} cells`);
}

/** MODIFY of an indirect counter cell, read back, restored. */
export async function checkCounterModify(s: HwTestSession): Promise<CheckOutcome> {
  const name = vmCounter(s);
  const index = s.o.fixture.vms[0]?.vmId ?? 0;
  const h = s.sw.counter(name);
  const [old] = await s.sw.readAll(h.at(index));
  const was = { bytes: old?.bytes ?? 0n, packets: old?.packets ?? 0n };
  const undo = s.undo.add(`restore ${name}[${index}]`, () => s.sw.write(h.modify(index, was)));
  const value = { bytes: 123_456_789_012n, packets: 4_242n };
  await s.sw.write(h.modify(index, value));
  const [back] = await s.sw.readAll(h.at(index));
  await undo.revert();
  const [restored] = await s.sw.readAll(h.at(index));
  if (back?.bytes !== value.bytes || back.packets !== value.packets) return fail(`wrote ${name}[${index}] = ${value.packets} packets / ${value.bytes} bytes, read back ${back?.packets} / ${back?.bytes}`);
  if (restored?.bytes !== was.bytes || restored.packets !== was.packets) return fail(`restoring ${name}[${index}] to ${was.packets} / ${was.bytes} read back ${restored?.packets} / ${restored?.bytes}`);
  return pass(`${name}[${index}] MODIFY to ${value.packets} packets / ${value.bytes} bytes read back; restored`);
}

/** The dyn_acl direct counter: MODIFY, read back, one hit counted. */
export async function checkDirectCounter(s: HwTestSession): Promise<CheckOutcome> {
  await ensureFixture(s);
  const table = 'dyn_acl';
  const match = dynAclKey(s, 4);
  const dc = s.sw.directCounter(table);
  const undo = recordInsert(s, { table, match });
  try {
    await s.sw.write(s.sw.table(table).insert({ match, action: 'pinhole_allow' }));
    await s.sw.write(dc.modify(match, { bytes: 1000n, packets: 10n }));
    const [set] = await s.sw.readAll(dc.entry(match));
    if (set?.bytes !== 1000n || set.packets !== 10n) return fail(`wrote the direct counter to 10 packets / 1000 bytes, read back ${set?.packets} / ${set?.bytes}`);
    const frame = udpFrameFor(s, match);
    await s.inject([frame]);
    const [hit] = await s.sw.readAll(dc.entry(match));
    const [viaTable] = await s.sw.readAll(s.sw.table(table).entry(match, { withCounters: true }));
    const grew = { packets: (hit?.packets ?? 0n) - 10n, bytes: (hit?.bytes ?? 0n) - 1000n };
    const len = BigInt(frame.payload.length);
    if (grew.packets !== 1n) return fail(`one packet hitting the entry moved its counter by ${grew.packets} packets`);
    // BMv2 counts a PacketOut's ingress length, packet_out header included (p4/README.md "Target notes").
    const header = BigInt(s.inbandSpec.requestFields.reduce((n, f) => n + f.bits, 0) / 8);
    if (grew.bytes !== len && grew.bytes !== len + header) return fail(`one ${len}-byte frame moved the byte count by ${grew.bytes}; expected ${len} (the frame) or ${len + header} (with the packet_out header)`);
    if (viaTable?.counter?.packets !== hit?.packets || viaTable?.counter?.bytes !== hit?.bytes) {
      return fail(`the table read with counter_data says ${viaTable?.counter?.packets} / ${viaTable?.counter?.bytes}, the DirectCounterEntry read ${hit?.packets} / ${hit?.bytes}`);
    }
    return pass(`dyn_acl direct counter: MODIFY to 10 / 1000 read back; one hit counted (+1 packet, +${grew.bytes} bytes${grew.bytes === len ? '' : ', packet_out header included'}); table read with counter_data agrees`);
  } finally {
    await deleteEntry(s, { table, match });
    undo.release();
  }
}

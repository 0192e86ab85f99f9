/**
 * StreamChannel checks: packet I/O (an in-band READ_EPOCH PacketOut answered by a PacketIn that
 * echoes op and request id), digests (the pinhole digest configured, triggered by an outbound UDP
 * datagram injected through PacketOut, received decoded and acked), and idle-timeout
 * notifications (a dyn_acl entry with a short timeout reported idle).
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { DigestList, IdleTimeoutNotice, MatchInput } from 'p4runtime-ts';
import { INBAND_OP, INBAND_STATUS } from '../../plugin/index.js';
import { parseIpv4 } from '../../sim/programs/stateful-edge/index.js';
import { fail, pass, unsupported } from '../check-recorder.js';
import type { CheckOutcome } from '../check-recorder.js';
import { deleteEntry, ensureFixture, recordInsert } from '../fixture.js';
import type { HwTestSession } from '../session.js';
import { readDigestConfig, restoreDigestConfig } from '../digest-restore.js';
import { udpFrameFor } from './frames.js';
import { dynAclKey } from './tables.js';

/** PacketOut (in-band READ_EPOCH) in, PacketIn out. */
export async function checkPacketIo(s: HwTestSession): Promise<CheckOutcome> {
  const t0 = performance.now();
  const { answer, reqId } = await s.rawRequest(INBAND_OP.READ_EPOCH);
  const rtt = performance.now() - t0;
  if (answer.op !== INBAND_OP.READ_EPOCH || answer.status !== INBAND_STATUS.OK) {
    return fail(`the PacketIn answering READ_EPOCH request ${reqId} carries op ${answer.op}, status ${answer.status}; expected op ${INBAND_OP.READ_EPOCH}, status 0 (OK)`);
  }
  return pass(`PacketOut READ_EPOCH (req_id ${reqId}) answered by a PacketIn in ${rtt.toFixed(1)} ms: op and req_id echoed, epoch ${answer.words[0] ?? 0n}, data-plane time ${answer.ts} µs`);
}

/** The digest the dynamic-ACL table learns from (@migrate_learn). */
function learnDigest(s: HwTestSession): string {
  const d = s.contract.tables.find((t) => t.learn)?.learn?.digest;
  if (!d) throw new Error('no table of the P4Info declares @migrate_learn; hw-test needs the pinhole digest of stateful_edge');
  return d;
}

/** Configure the pinhole digest, trigger it with an injected UDP datagram, receive and ack. */
export async function checkDigest(s: HwTestSession): Promise<CheckOutcome> {
  await ensureFixture(s);
  const name = learnDigest(s);
  const h = s.sw.digest(name);
  const key = dynAclKey(s, 5);
  const remote = BigInt(parseIpv4(String(key.remote_addr)) >>> 0);
  const vmPort = BigInt(Number(key.vm_port));
  const ours = (e: Readonly<Record<string, bigint>>): boolean => e.remote_addr === remote && e.vm_port === vmPort && e.protocol === 17n;
  const want = (l: DigestList): boolean => l.entries.some(ours);
  const received = firstValueFrom(s.sw.digests$(name).pipe(filter(want), timeout({ first: s.o.digestWaitMs, with: () => Promise.reject(new Error('timeout')) })));
  received.catch(() => undefined);
  // One message per list: a partly filled list waits 200–330 ms on BMv2 whatever max_timeout_ns says.
  const config = { maxListSize: 1, maxTimeoutNs: '10ms', ackTimeoutNs: '1s' } as const;
  const old = await readDigestConfig(s, name);
  await s.sw.write(old ? h.modify(config) : h.configure(config));
  const undo = s.undo.add(`restore the configuration of digest ${name}`, () => restoreDigestConfig(s, name, old));
  try {
    const t0 = performance.now();
    await s.inject([udpFrameFor(s, key)]);
    let list: DigestList;
    try {
      list = await received;
    } catch {
      return fail(`no digest list of ${name} with the injected datagram's key arrived within ${s.o.digestWaitMs} ms`);
    }
    const e = list.entries.find(ours);
    const fields = Object.entries(e ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
    return pass(`digest ${name} list ${list.listId} arrived ${(performance.now() - t0).toFixed(0)} ms after the PacketOut with ${list.entries.length} entr${list.entries.length === 1 ? 'y' : 'ies'} {${fields}}; acked`);
  } finally {
    await undo.revert();
  }
}

function sameKey(notice: IdleTimeoutNotice, key: Readonly<Record<string, MatchInput>>, vmId: number): boolean {
  return notice.entries.some((e) => {
    const get = (suffix: string): bigint | undefined => {
      const m = Object.entries(e.match).find(([k]) => k === suffix || k.endsWith(`.${suffix}`))?.[1];
      return m && 'value' in m ? m.value : undefined;
    };
    return get('vm_id') === BigInt(vmId) && get('vm_port') === BigInt(Number(key.vm_port));
  });
}

/** A dyn_acl entry with a short idle timeout is reported idle. */
export async function checkIdleTimeout(s: HwTestSession): Promise<CheckOutcome> {
  const table = 'dyn_acl';
  const key = dynAclKey(s, 6);
  const vmId = s.o.fixture.vms[0]?.vmId ?? 0;
  const notified = firstValueFrom(
    s.sw.idleTimeouts$.pipe(
      filter((n) => sameKey(n, key, vmId)),
      timeout({ first: s.o.idleWaitMs, with: () => Promise.reject(new Error('timeout')) }),
    ),
  );
  notified.catch(() => undefined);
  const undo = recordInsert(s, { table, match: key });
  try {
    const t0 = performance.now();
    await s.sw.write(s.sw.table(table).insert({ match: key, action: 'pinhole_allow', idleTimeout: `${s.o.idleTimeoutMs}ms` }));
    try {
      await notified;
    } catch {
      const what = `no idle-timeout notification for a dyn_acl entry with idle_timeout ${s.o.idleTimeoutMs} ms within ${s.o.idleWaitMs} ms`;
      if (!s.profile.idleTimeoutNotifications) return unsupported(`${what}: ${s.profile.describes} sends none (profile ${s.profile.name})`);
      return fail(`${what}; the table is NOTIFY_CONTROL and profile ${s.profile.name} predicts notifications`);
    }
    return pass(`dyn_acl entry with idle_timeout ${s.o.idleTimeoutMs} ms reported idle after ${(performance.now() - t0).toFixed(0)} ms`);
  } finally {
    await deleteEntry(s, { table, match: key });
    undo.release();
  }
}

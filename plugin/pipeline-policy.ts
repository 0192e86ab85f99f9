/**
 * What the plugin does with the switch's forwarding pipeline, at start and again whenever its
 * session is re-established. A push clears every table entry, register and counter the switch
 * holds (your controller's port_role and vm_table included), so the plugin pushes its
 * `deviceConfig` only to a switch with no pipeline. A switch running the plugin's program — the
 * same cookie, or the same P4Info from another build — is used as it is. Another program is
 * refused (PIPELINE_MISMATCH, nothing touched, naming what differs) unless `replacePipeline` asks
 * for the push at start. Without a deviceConfig nothing is pushed: the switch must run the P4Info.
 */
import { P4Schema, pipelineCookie, sameP4Info } from 'p4runtime-ts';
import type { Logger, P4Switch, p4 } from 'p4runtime-ts';
import { listDifferences } from './bmv2-json-check.js';
import { EdgePluginError } from './errors.js';
import { p4infoDifferences } from './p4info-differences.js';

/** The pipeline step's outcome, as health() reports it. */
export type PipelineOutcome =
  /** Pushed: to a switch with none (`replaced` undefined), or over another program (`replaced`: its name and cookie). */
  | { readonly pushed: true; readonly cookie: string; readonly replaced: string | undefined }
  /** The switch runs the plugin's program: the same cookie, or the same P4Info from another build (`ours` differs). */
  | { readonly pushed: false; readonly cookie: string; readonly matched: 'cookie' | 'p4info'; readonly ours: string }
  | { readonly pushed: false; readonly skipped: string };

/** PIPELINE_MISMATCH with its parts, so a caller (the daemon, `carryover migrate`) can phrase its own fix. */
export class PipelineMismatchError extends EdgePluginError {
  constructor(
    message: string,
    /** The switch, e.g. `the switch at 10.0.0.7:9559 (device 1)`. */
    readonly switchAt: string,
    /** What it runs: program name and cookie, or undefined for no pipeline. */
    readonly running: string | undefined,
    /** The plugin's program: name, P4Info file, cookie. */
    readonly ours: string,
  ) {
    super('PIPELINE_MISMATCH', message);
  }
}

/** What settlePipeline needs. */
export interface PipelineCheckInput {
  readonly sw: P4Switch;
  readonly schema: P4Schema;
  /** Where the P4Info came from, for messages. */
  readonly p4infoSource: string;
  readonly deviceConfig: Uint8Array | undefined;
  /** Replace another program (only ever at start). */
  readonly replace: boolean;
  /** false: push nothing, even to a switch with none (a read-only check). Default true. */
  readonly push?: boolean;
  readonly address: string;
  readonly deviceId: bigint | number;
  readonly logger: Logger;
  /** `start`, or `reconnect`: the session came back after a disconnect (the switch may have restarted). */
  readonly when: 'start' | 'reconnect';
}

/** A pipeline cookie as health() and the logs show it. */
export const cookieText = (c: bigint | undefined): string => (c === undefined ? 'no cookie' : `0x${c.toString(16)}`);
const hex = cookieText;

/** The switch's P4Info and cookie, or undefined when it runs no pipeline. */
async function runningPipeline(sw: P4Switch): Promise<{ readonly p4info: p4.config.v1.P4Info; readonly cookie: bigint | undefined } | undefined> {
  try {
    const c = await sw.currentPipeline('P4INFO_AND_COOKIE');
    return c?.p4info ? { p4info: c.p4info, cookie: c.cookie } : undefined;
  } catch (e) {
    throw EdgePluginError.from(e, 'reading the switch\'s pipeline (GetForwardingPipelineConfig)');
  }
}

const programOf = (p4info: p4.config.v1.P4Info | p4.config.v1.P4Info.$Properties): string => {
  const pkg = p4info.pkgInfo;
  return pkg?.name ? `'${pkg.name}'${pkg.version ? ` ${pkg.version}` : ''}` : 'an unnamed program';
};

/**
 * Checks the switch's pipeline against the plugin's program and pushes or refuses as the module
 * comment says; binds the plugin's schema to the session. Resolves with what it did.
 * @throws EdgePluginError PIPELINE_MISMATCH naming the switch, both programs and the fix.
 * @example
 * const outcome = await settlePipeline({ sw, schema, p4infoSource, deviceConfig, replace: false, address, deviceId, logger, when: 'start' });
 */
export async function settlePipeline(i: PipelineCheckInput): Promise<PipelineOutcome> {
  const { sw, schema, deviceConfig, logger: log } = i;
  const at = `the switch at ${i.address} (device ${String(i.deviceId)})`;
  const ours = deviceConfig === undefined ? undefined : pipelineCookie(schema.p4info, deviceConfig);
  const mine = `${programOf(schema.p4info)} (${i.p4infoSource}${ours === undefined ? '' : `, cookie ${hex(ours)}`})`;
  // At start without a deviceConfig the switch's pipeline is its owner's: used as it is, once its
  // P4Info is this plugin's (walkthrough 21: a 64-bit-clock variant was used under the stock
  // P4Info, its schema never compared). A switch that cannot say what it runs is used unread.
  if (deviceConfig === undefined && i.when === 'start') {
    const running = await runningPipeline(sw).catch((e: unknown) => {
      log.warn('the switch does not say which program it runs (GetForwardingPipelineConfig): its pipeline is used as this plugin\'s P4Info describes it', { error: (e as Error).message });
      return undefined;
    });
    if (running !== undefined && !sameP4Info(running.p4info, schema.p4info)) {
      const theirs = `${programOf(running.p4info)} (cookie ${hex(running.cookie)})`;
      throw new PipelineMismatchError(`${at} runs ${theirs}, not this plugin's ${mine}${differences(schema, running.p4info)}; nothing pushed: point p4info at the P4Info of the program the switch runs (the inventory's p4info for the device), or push ${programOf(schema.p4info)} from your controller`, at, theirs, mine);
    }
    sw.bindSchema(schema);
    return { pushed: false, skipped: running === undefined ? 'no deviceConfig given: the pipeline on the device is used as is' : 'no deviceConfig given: the switch runs this P4Info, used as it is' };
  }
  const running = await runningPipeline(sw);
  if (running === undefined) {
    if (deviceConfig === undefined || ours === undefined) {
      throw new PipelineMismatchError(`${at} runs no pipeline (restarted?) and this plugin has no deviceConfig to push: push ${mine} from your controller (the plugin checks again every few seconds), or give the plugin a deviceConfig`, at, undefined, mine);
    }
    if (i.push === false) throw new PipelineMismatchError(`${at} runs no pipeline; nothing pushed (reading only): ${mine} would be pushed to it`, at, undefined, mine);
    await pushPipeline(sw, schema, deviceConfig, ours, i.deviceId);
    if (i.when === 'reconnect') {
      log.warn('switch came back without its pipeline (restarted?); pipeline pushed again', {
        cookie: hex(ours),
        cleared: 'the switch is empty: every table entry, register and counter is gone; your controller must lay out port_role and vm_table (and static_acl) again',
      });
    } else {
      log.info('pipeline pushed to a switch with none', { cookie: hex(ours) });
    }
    return { pushed: true, cookie: hex(ours), replaced: undefined };
  }
  if (ours !== undefined && running.cookie === ours) {
    sw.bindSchema(schema);
    log.info('pipeline unchanged; not pushed', { cookie: hex(ours) });
    return { pushed: false, cookie: hex(ours), matched: 'cookie', ours: hex(ours) };
  }
  const theirs = `${programOf(running.p4info)} (cookie ${hex(running.cookie)})`;
  if (sameP4Info(running.p4info, schema.p4info)) {
    // Another build of the same program (a BMv2 JSON with other whitespace, say): pushing it would only wipe the switch.
    sw.bindSchema(schema);
    if (ours !== undefined) log.info('the switch runs this program from another build (same P4Info, other cookie): used as it is, not pushed', { cookie: hex(running.cookie), ours: hex(ours) });
    return { pushed: false, cookie: hex(running.cookie), matched: 'p4info', ours: ours === undefined ? 'none' : hex(ours) };
  }
  if (i.replace && i.when === 'start' && deviceConfig !== undefined && ours !== undefined) {
    await pushPipeline(sw, schema, deviceConfig, ours, i.deviceId);
    log.warn('pipeline replaced (replacePipeline: true): every table entry, register and counter the switch held was cleared', {
      cookie: hex(ours),
      previous: theirs,
      cleared: 'port_role, vm_table, static_acl and every other table entry; connection-tracking registers; counters; digest configurations',
    });
    return { pushed: true, cookie: hex(ours), replaced: theirs };
  }
  const fix = i.when === 'start'
    ? `push ${programOf(schema.p4info)} from your controller, or point p4info and deviceConfig at the program the switch runs; to have this plugin replace it, set replacePipeline: true (the daemon's config file, or EdgePluginOptions) — the push clears every table entry (port_role, vm_table), register and counter on the switch`
    : 'the switch was given another program while the plugin was away: push this plugin\'s program again from your controller (the plugin checks again every few seconds), or restart the plugin with the program the switch runs';
  throw new PipelineMismatchError(`${at} runs ${theirs}, not this plugin's ${mine}${differences(schema, running.p4info)}; nothing pushed: ${fix}`, at, theirs, mine);
}

/** ` (they differ: …)` naming sizes and widths, when the two share a name and version (another program's name says enough). */
function differences(schema: P4Schema, running: p4.config.v1.P4Info): string {
  if (programOf(schema.p4info) !== programOf(running)) return '';
  let theirs: P4Schema;
  try {
    theirs = P4Schema.fromP4Info(running);
  } catch {
    return '';
  }
  const d = p4infoDifferences(schema, theirs);
  return d.length === 0 ? ' (the same tables, registers, counters and digests: other names, ids or annotations)' : ` (they differ: ${listDifferences(d)})`;
}

async function pushPipeline(sw: P4Switch, schema: P4Schema, deviceConfig: Uint8Array, cookie: bigint, deviceId: bigint | number): Promise<void> {
  try {
    await sw.setPipeline('VERIFY_AND_COMMIT', schema.p4info, deviceConfig, cookie);
  } catch (e) {
    const err = EdgePluginError.from(e, 'pushing the pipeline (SetForwardingPipelineConfig VERIFY_AND_COMMIT)');
    // BMv2's words when the device id is not the one it was started with (field walkthrough 21:
    // nothing said so, and BMv2 then crashed on the next Write to that id).
    if (/Error when trying to assign device/.test(err.message)) throw new EdgePluginError(err.code, `${err.message}: BMv2 says this when ${String(deviceId)} is not the device id it was started with (simple_switch_grpc --device-id): set the switch's deviceId to that one`, { cause: e });
    throw err;
  }
  sw.bindSchema(schema);
}

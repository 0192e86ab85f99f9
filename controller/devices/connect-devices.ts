/**
 * The controller's in-process path to its devices: one edge plugin per inventory device (P4Runtime
 * session as primary with the inventory's election id, pipeline pushed where the inventory names a
 * device config, register access probed or forced), and its device API. The migration protocol
 * (a plugin daemon beside each switch) serves the same DeviceApi over the network.
 */
import { readFileSync } from 'node:fs';
import { P4RuntimeError, silentLogger } from 'p4runtime-ts';
import type { CredentialsOption, Logger } from 'p4runtime-ts';
import { createDeviceApi, createEdgePlugin, migrationServiceGaps } from '../../plugin/index.js';
import type { DeviceApi, EdgeDeviceApi, EdgePlugin } from '../../plugin/index.js';
import { EdgePluginError, PipelineMismatchError } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import { explainTransport } from './transport-cause.js';
import type { TransferStarter } from '../engine/peer-rounds.js';
import type { InventoryDevice } from '../inventory/inventory.js';

/** Device APIs by device name, and how to let go of the devices. */
export interface ConnectedDevices {
  readonly apis: ReadonlyMap<string, DeviceApi>;
  /** Peer to peer: how a source among them sends straight to the destinations (when all are reached the same way). */
  readonly transfer?: TransferStarter;
  /** Ends delta streams and plugins (sessions closed; the switches keep their state). */
  stop(): Promise<void>;
}

/** Options of connectDevices. */
export interface ConnectDevicesOptions {
  /** P4Info for devices whose inventory entry names none. */
  readonly defaultP4info: string;
  readonly logger?: Logger;
  /** Milliseconds to wait for each switch (default 10 000). */
  readonly connectTimeoutMs?: number;
  /** false: a device's deviceConfig is never pushed, even to a switch with none (a read-only check). Default true. */
  readonly pushPipeline?: boolean;
}

function credentialsOf(d: InventoryDevice): CredentialsOption {
  if (!d.tls) return { kind: 'insecure' };
  if (d.tls.cert && d.tls.key) return { kind: 'mtls', ca: d.tls.ca, cert: d.tls.cert, key: d.tls.key };
  return { kind: 'tls', ca: d.tls.ca };
}

/**
 * Connects to every device (in parallel); on any failure the ones already started are stopped
 * and the error names the device and its address.
 * @example
 * const devices = await connectDevices([...plan.sources, ...plan.destinations], { defaultP4info: 'p4/stateful_edge.p4info.txtpb' });
 */
export async function connectDevices(devices: readonly InventoryDevice[], o: ConnectDevicesOptions): Promise<ConnectedDevices> {
  const logger = o.logger ?? silentLogger;
  const started: { plugin: EdgePlugin; api: EdgeDeviceApi | undefined }[] = [];
  const stop = async (): Promise<void> => {
    for (const s of started) s.api?.stop();
    await Promise.all(started.map((s) => s.plugin.stop().catch(() => undefined)));
  };
  const apis = new Map<string, DeviceApi>();
  for (const d of devices) {
    if (d.address === undefined || d.deviceId === undefined) throw new ControllerError('BAD_CONFIG', `device '${d.name}' has no P4Runtime address and device id; a device behind a plugin daemon is reached over the migration protocol (connectPlanDevices)`);
  }
  const results = await Promise.allSettled(
      devices.map(async (d) => {
        const plugin = createEdgePlugin({
          address: d.address as string,
          deviceId: d.deviceId as bigint,
          electionId: d.electionId,
          ...(d.p4runtimeRole !== undefined ? { role: d.p4runtimeRole } : {}),
          credentials: credentialsOf(d),
          p4info: d.p4info ?? o.defaultP4info,
          // A migration never replaces a switch's pipeline: that would clear the state it moves (said
          // explicitly, whatever the plugin's default).
          ...(d.deviceConfig ? { deviceConfig: readFileSync(d.deviceConfig), replacePipeline: false } : {}),
          ...(o.pushPipeline === false ? { pushPipeline: false } : {}),
          registerAccess: d.registerAccess,
          grpcClient: d.grpcClient,
          openStreamsAhead: d.openStreamsAhead,
          connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
          logger: logger.child({ device: d.name }),
        });
        const entry: { plugin: EdgePlugin; api: EdgeDeviceApi | undefined } = { plugin, api: undefined };
        started.push(entry);
        // Before the switch is touched: a P4Info without the migration contract would have its
        // program pushed and only prepare refuse (walkthrough 22 A3).
        const gaps = migrationServiceGaps(plugin.contract, plugin.group);
        if (gaps.length > 0) throw new ControllerError('UNSUPPORTED_STATE', `device '${d.name}': p4info ${d.p4info ?? o.defaultP4info}: a migration needs ${gaps.join('; ')}, which this P4Info lacks; nothing was pushed or changed: give the device the P4Info of a program with the migration contract (p4/README.md "The migration contract")`);
        try {
          await plugin.start();
        } catch (e) {
          throw startFailure(d, e, o.pushPipeline === false);
        }
        entry.api = createDeviceApi(plugin, { name: d.name });
        await entry.api.ready();
        apis.set(d.name, entry.api);
      }),
    );
  // Every start settled, so stop() reaches all of them.
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { apis, stop };
}

/** Why a device's plugin could not start, as the controller's reason with the fix for that cause. */
function startFailure(d: InventoryDevice, e: unknown, readOnly: boolean): ControllerError {
  const at = `device '${d.name}' at ${d.address ?? '?'}`;
  const msg = (e as Error).message;
  const err = EdgePluginError.from(e);
  const code = err.switchCode;
  if (err instanceof PipelineMismatchError && err.running === undefined && readOnly && d.deviceConfig) {
    // A check pushes nothing (walkthrough 22: it pushed deviceConfig to an empty switch).
    return new ControllerError('PEER_REJECTED', `${at} runs no pipeline: a migration would push its deviceConfig (${d.deviceConfig}) first — an empty switch, where your controller has not laid out the VM (vm_table) yet; the check pushed nothing`, { cause: e });
  }
  if (err instanceof PipelineMismatchError && d.deviceConfig === undefined && err.running !== undefined) {
    // No deviceConfig: the inventory's P4Info (or the embedded default) must be what the switch runs.
    return new ControllerError('SCHEMA_MISMATCH', `${at}: ${msg.replace(/; nothing pushed: .*$/, '')}; nothing pushed: set its p4info in the inventory to the P4Info of the program the switch runs (carryover then translates between the schemas where it can), or push the inventory's program to the switch from your controller`, { cause: e });
  }
  if (err instanceof PipelineMismatchError) {
    // The plugin's own fix names replacePipeline, which migrate never sets: a push would clear the state it moves.
    const runs = err.running === undefined ? 'runs no pipeline' : `runs ${err.running}`;
    return new ControllerError('SCHEMA_MISMATCH', `${at} ${runs}, not the inventory's ${err.ours}; nothing pushed (a push clears every table entry, register and counter): its inventory entry's deviceConfig (${d.deviceConfig ?? 'none'}) and p4info are not what the switch runs: remove deviceConfig (and p4info) to use the switch's pipeline as it is, or correct the files`, { cause: e });
  }
  if (code === 'FAILED_PRECONDITION' && d.deviceConfig) {
    return new ControllerError('SCHEMA_MISMATCH', `${at}: ${msg}; its inventory entry's deviceConfig (${d.deviceConfig}) is not what the switch runs: remove deviceConfig (and p4info) to use the switch's pipeline as it is, or correct the files`, { cause: e });
  }
  if (err.cause instanceof P4RuntimeError && err.cause.electionIdConflict) {
    return new ControllerError('NOT_PRIMARY', `${at}: another client holds election id ${d.electionId}${d.p4runtimeRole ? ` in role '${d.p4runtimeRole}'` : ''} there — most likely another carryover migrate or recover on this switch. Run one at a time (several VMs: one after the other, or through plugin daemons, which serve concurrent migrations); a higher electionId would take the switch from the running one and fail its migration`, { cause: e });
  }
  if (code === 'NOT_PRIMARY') return new ControllerError('NOT_PRIMARY', `${at}: ${msg}`, { cause: e });
  const explained = explainTransport(msg);
  return new ControllerError('DEVICE_UNREACHABLE', explained !== msg ? `${at}: ${explained}` : `${at}: ${msg}; check the address, device id and credentials in the inventory`, { cause: e });
}

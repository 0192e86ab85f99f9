/**
 * The devices of one migration as its inventory says to reach them: an in-process edge plugin for
 * a device with a P4Runtime address, the migration protocol (gRPC, mutual TLS, this controller's
 * tickets) for a device whose inventory entry names its plugin daemon. The engine sees one
 * DeviceApi per device either way.
 */
import { readFileSync } from 'node:fs';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, RemoteDeviceApi } from '../../plugin/index.js';
import { inProcessTransfer } from '../engine/peer-rounds.js';
import type { TransferStarter } from '../engine/peer-rounds.js';
import { ControllerError } from '../errors.js';
import type { InventoryController, InventoryDevice } from '../inventory/inventory.js';
import { connectRemoteDevices } from '../remote/remote-devices.js';
import { TicketIssuer } from '../remote/ticket-issuer.js';
import type { TicketScope, TicketSource } from '../remote/ticket-issuer.js';
import { connectDevices } from './connect-devices.js';
import type { ConnectedDevices } from './connect-devices.js';

/** Options of connectPlanDevices. */
export interface PlanDevicesOptions {
  /** P4Info for in-process devices whose inventory entry names none. */
  readonly defaultP4info: string;
  /** This controller's domain: the signer name of its tickets. */
  readonly domain: string;
  /** Its identity towards plugin daemons (required when a device names one). */
  readonly controller: InventoryController | undefined;
  /** Which devices are sources and destinations (what tickets name). */
  readonly scope: TicketScope;
  /** Tickets for the daemons; default a TicketIssuer signing with the controller's key under `domain`. */
  readonly tickets?: TicketSource;
  readonly logger?: Logger;
  readonly connectTimeoutMs?: number;
  /** false: an in-process device's deviceConfig is never pushed (a read-only check). Default true. */
  readonly pushPipeline?: boolean;
}

/** A TicketIssuer for this controller's own migrations. @throws ControllerError BAD_CONFIG. */
export function controllerTicketIssuer(domain: string, c: InventoryController): TicketIssuer {
  let key: string;
  try {
    key = readFileSync(c.signingKey, 'utf8');
  } catch (e) {
    throw new ControllerError('BAD_CONFIG', `controller.signingKey: cannot read ${c.signingKey} (${(e as Error).message})`, { cause: e });
  }
  return new TicketIssuer({ signer: domain, key });
}

/**
 * Connects every device; on a failure the ones already connected are let go and the error names
 * the device.
 * @example
 * const d = await connectPlanDevices([...plan.sources, ...plan.destinations], { defaultP4info, domain: inv.domain, controller: inv.controller, scope });
 */
export async function connectPlanDevices(devices: readonly InventoryDevice[], o: PlanDevicesOptions): Promise<ConnectedDevices> {
  const daemons = devices.filter((d) => d.plugin !== undefined);
  const local = devices.filter((d) => d.plugin === undefined);
  let remote: ReturnType<typeof connectRemoteDevices> | undefined;
  if (daemons.length > 0) {
    const c = o.controller;
    if (!c) throw new ControllerError('BAD_CONFIG', `${daemons.map((d) => d.name).join(', ')}: reached through plugin daemons, but the inventory has no controller section (tls, signingKey)`);
    remote = connectRemoteDevices({
      devices: daemons.map((d) => ({ name: d.name, address: d.plugin?.address as string, ...(d.plugin?.serverName ? { serverName: d.plugin.serverName } : {}) })),
      scope: o.scope,
      tls: c.tls,
      issuer: o.tickets ?? controllerTicketIssuer(o.domain, c),
    });
  }
  let inproc: ConnectedDevices | undefined;
  try {
    inproc = local.length === 0 ? undefined : await connectDevices(local, { defaultP4info: o.defaultP4info, ...(o.logger ? { logger: o.logger } : {}), ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}), ...(o.pushPipeline === false ? { pushPipeline: false } : {}) });
  } catch (e) {
    remote?.close();
    throw e;
  }
  const apis = new Map<string, DeviceApi>([...(remote?.devices ?? []), ...(inproc?.apis ?? [])]);
  (o.logger ?? silentLogger).debug('devices connected', { inProcess: local.map((d) => d.name).join(','), daemons: daemons.map((d) => d.name).join(',') });
  // Peer to peer needs the sources to reach the destinations the same way the controller does.
  const endpoints = new Map(daemons.map((d) => [d.name, { name: d.name, address: d.plugin?.address as string, ...(d.plugin?.serverName ? { serverName: d.plugin.serverName } : {}) }]));
  const r = remote;
  const transfer: TransferStarter | undefined = local.length === 0 && r
    ? (source, m, request) => (r.devices.get(source) as RemoteDeviceApi).transfer(m, request, request.plan.destinations.map((n) => endpoints.get(n) ?? { name: n, address: '' }))
    : daemons.length === 0 ? inProcessTransfer(apis) : undefined;
  return {
    apis,
    ...(transfer ? { transfer } : {}),
    stop: async () => {
      remote?.close();
      await inproc?.stop();
    },
  };
}

/** How a controller reaches some of its devices for one migration: the inventory's way (connectPlanDevices) unless a test or benchmark brings its own. */
export type DeviceConnector = (devices: readonly InventoryDevice[], o: { readonly scope: TicketScope; readonly tickets?: TicketSource }) => Promise<ConnectedDevices>;

/**
 * The devices of one migration reached over the migration protocol: a DeviceApi per device
 * (connectMigrationPeer), each call carrying the migration's ticket from this coordinator's
 * issuer — what the MigrationEngine takes in place of in-process device APIs.
 *
 * @example
 * const remote = connectRemoteDevices({ devices: [{ name: 'src', address: 'edge-1:50051' }, { name: 'dst', address: 'edge-2:50051' }],
 *   scope: { sources: ['src'], destinations: ['dst'] }, tls: { ca, cert, key }, issuer });
 * const engine = new MigrationEngine({ plan, machine, devices: remote.devices });
 */
import { connectMigrationPeer } from '../../plugin/index.js';
import type { MutualTls, RemoteDeviceApi } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { TicketScope, TicketSource } from './ticket-issuer.js';

/** Where one device's plugin serves the migration protocol. */
export interface RemoteDeviceAddress {
  readonly name: string;
  /** `host:port` of its migration protocol. */
  readonly address: string;
  /** The name its certificate carries, when the address's host is not it. */
  readonly serverName?: string;
}

/** Options of connectRemoteDevices. */
export interface RemoteDevicesOptions {
  readonly devices: readonly RemoteDeviceAddress[];
  /** Which of them are sources and destinations of the migration (what its tickets name). */
  readonly scope: TicketScope;
  /** This coordinator's mutual-TLS material (its certificate is its identity to the plugins). */
  readonly tls: MutualTls;
  /** This coordinator's TicketIssuer, or (across domains) the ticket both coordinators signed. */
  readonly issuer: TicketSource;
  readonly callTimeoutMs?: number;
  readonly maxMessageBytes?: number;
}

/** The connected devices, by name, and closing them. */
export interface RemoteDevices {
  readonly devices: ReadonlyMap<string, RemoteDeviceApi>;
  close(): void;
}

/**
 * Connects to the devices of a migration reached over the protocol (channels open lazily); others
 * in the scope may be reached in process. @throws ControllerError BAD_CONFIG.
 */
export function connectRemoteDevices(o: RemoteDevicesOptions): RemoteDevices {
  const scoped = new Set([...o.scope.sources, ...o.scope.destinations]);
  for (const d of o.devices) {
    // Its tickets would not name it: every call would be refused.
    if (!scoped.has(d.name)) throw new ControllerError('BAD_CONFIG', `remote devices: '${d.name}' is not a source or destination of the migration (${[...scoped].join(', ')})`);
  }
  const out = new Map<string, RemoteDeviceApi>();
  try {
    for (const d of o.devices) {
      out.set(d.name, connectMigrationPeer({
        address: d.address,
        name: d.name,
        tls: { ...o.tls, ...(d.serverName ? { serverName: d.serverName } : {}) },
        ticket: (m) => o.issuer.ticketFor(m, o.scope),
        ...(o.callTimeoutMs !== undefined ? { callTimeoutMs: o.callTimeoutMs } : {}),
        ...(o.maxMessageBytes !== undefined ? { maxMessageBytes: o.maxMessageBytes } : {}),
      }));
    }
  } catch (e) {
    for (const c of out.values()) c.close();
    throw new ControllerError('BAD_CONFIG', `remote devices: ${(e as Error).message}`, { cause: e });
  }
  return { devices: out, close: () => out.forEach((c) => c.close()) };
}

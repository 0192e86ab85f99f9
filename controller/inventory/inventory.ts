/**
 * The inventory: what a controller knows about its site — devices (how to reach them, what role
 * they play, which hosts and subnets they serve), hosts, placement functions for 1:N
 * migrations, and VMs. Loaded from YAML by `loadInventory`; every object here is frozen.
 */

/** How a device is reached over P4Runtime. */
export interface InventoryTls {
  /** CA that signed the switch's certificate (PEM file). */
  readonly ca: string;
  /** Client certificate and key for mTLS (PEM files), when the switch asks for them. */
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

/** What a device does on a VM's path. */
export type DeviceRole =
  /** Holds the VM's state (the edge firewall in front of its host). */
  | 'edge'
  /** On the VM's path beyond the edge (e.g. an aggregation switch with its own state). */
  | 'path';

/** Where a device's plugin daemon serves the migration protocol (the controller calls it there). */
export interface InventoryPluginEndpoint {
  /** `host:port` of the daemon's migration protocol. */
  readonly address: string;
  /** The name its server certificate carries, when the address's host is not it. */
  readonly serverName: string | undefined;
}

export interface InventoryDevice {
  readonly name: string;
  /** `host:port` of its P4Runtime server (the controller's in-process plugin dials it); optional with `plugin`. */
  readonly address: string | undefined;
  readonly deviceId: bigint | undefined;
  /** Its plugin daemon: when set, the controller reaches the device over the migration protocol only. */
  readonly plugin: InventoryPluginEndpoint | undefined;
  readonly electionId: bigint;
  /** The P4Runtime role its in-process plugin takes (undefined: the default role), so it can be primary beside your controller. */
  readonly p4runtimeRole: string | undefined;
  readonly role: DeviceRole;
  readonly tls: InventoryTls | undefined;
  /** `probe` (default) chooses per device; `p4runtime` or `inband` forces a backend. */
  readonly registerAccess: 'probe' | 'p4runtime' | 'inband';
  /** The gRPC client for its P4Runtime: p4runtime-ts' own `http2` (default) or `grpc-js`. */
  readonly grpcClient: 'http2' | 'grpc-js';
  /** With `http2`, Write and Read calls take a stream opened ahead (default true; false for a server that mishandles idle streams). */
  readonly openStreamsAhead: boolean;
  /** P4Info and device config to push when the switch has no pipeline (absolute paths). */
  readonly p4info: string | undefined;
  readonly deviceConfig: string | undefined;
  /** Hosts whose VMs this device sits in front of. */
  readonly hosts: readonly string[];
  /** Subnets (CIDR) it serves. */
  readonly subnets: readonly string[];
  /**
   * A path device's counterpart: the device on the other side that takes over its share of a
   * VM's state when the VM moves between hosts they serve (each names the other).
   */
  readonly counterpart: string | undefined;
}

/**
 * Which destination device a flow's path hits when a host sits behind several (1:N): a hash of
 * the flow's 5-tuple, as the fabric's ECMP computes it, picks one of `devices` in order.
 */
export interface PlacementFunction {
  readonly name: string;
  readonly kind: 'hash';
  readonly algorithm: 'crc32' | 'crc16' | 'csum16';
  /** The flow-key fields hashed, in order (names of the slot group's key fields). */
  readonly fields: readonly string[];
  readonly devices: readonly string[];
}

export interface InventoryHost {
  readonly name: string;
  /** Devices in front of the host (from the devices' `hosts`). */
  readonly devices: readonly string[];
  /** Placement function choosing among `devices` when there are several. */
  readonly placement: string | undefined;
}

export interface InventoryVm {
  readonly name: string;
  /** The VM's IPv4 address (what the VM map of its edge switch keys on). */
  readonly address: string;
  /** Where it runs now. */
  readonly host: string;
}

/** This controller's identity towards its plugin daemons (absolute paths). */
export interface InventoryController {
  /** Mutual TLS: the CA that signed the plugins' certificates, and this controller's certificate and key. */
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Its Ed25519 private key (PEM): migration tickets are signed with it under the inventory's domain. */
  readonly signingKey: string;
}

/** How this controller meets peer controllers of other domains (absolute paths). */
export interface InventoryFederation {
  /** `host:port` where it serves peers (undefined: it only starts cross-domain migrations). */
  readonly listen: string | undefined;
  /** Its certificate towards peers, client and server (signed by this domain's CA). */
  readonly tls: { readonly cert: string; readonly key: string };
}

/** Another domain's controller, trusted explicitly: its CA, the identity it must present, its ticket key. */
export interface InventoryPeer {
  /** The peer's domain name (its tickets' signer name). */
  readonly name: string;
  /** `host:port` where it serves federation (undefined: it only sends migrations here). */
  readonly address: string | undefined;
  /** The name its server certificate carries, when the address's host is not it. */
  readonly serverName: string | undefined;
  /** Its domain's CA certificate: trusted for this peer only. */
  readonly ca: string;
  /** The certificate CN or subjectAltName its controller presents. */
  readonly identity: string;
  /** Its Ed25519 public key (verifies its ticket signatures). */
  readonly ticketKey: string;
}

/** A whole site. */
export interface Inventory {
  /** The file it came from (for messages). */
  readonly source: string;
  /** This controller's domain (two-domain migrations name the other one). */
  readonly domain: string;
  /** Journal directory (absolute). */
  readonly journal: string;
  /** Present when some device is reached through its plugin daemon. */
  readonly controller: InventoryController | undefined;
  /** Present when this controller takes part in cross-domain migrations. */
  readonly federation: InventoryFederation | undefined;
  /** Peer domains by name. */
  readonly peers: ReadonlyMap<string, InventoryPeer>;
  readonly devices: ReadonlyMap<string, InventoryDevice>;
  readonly hosts: ReadonlyMap<string, InventoryHost>;
  readonly placements: ReadonlyMap<string, PlacementFunction>;
  readonly vms: ReadonlyMap<string, InventoryVm>;
}

/**
 * Loads and validates an inventory file (YAML). Every error names the file, the line, the field
 * and what was expected; cross-references (a host naming an unknown placement, a VM on an unknown
 * host, a placement over devices that do not serve the host) are checked too.
 *
 * @example
 * # site.yaml
 * domain: dc-a
 * journal: ./journal
 * controller: { tls: { ca: site-ca.pem, cert: controller-a.pem, key: controller-a.key }, signingKey: dc-a.key }
 * devices:
 *   edge-1: { address: 10.1.0.7:9559, deviceId: 1, p4runtimeRole: carryover, hosts: [host-a] }
 *   edge-2: { address: 10.1.0.8:9559, deviceId: 1, hosts: [host-b], tls: { ca: ca.pem, cert: c.pem, key: c.key } }
 *   edge-3: { plugin: { address: 10.1.0.9:50051, serverName: edge-3.dc-a }, hosts: [host-c] }
 * hosts:
 *   host-b: { placement: ecmp }
 * placement:
 *   ecmp: { kind: hash, algorithm: crc32, fields: [vm_addr, remote_addr, vm_port, remote_port, protocol], devices: [edge-2] }
 * vms:
 *   vm-7: { address: 10.0.0.5, host: host-a }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseIPv4 } from 'p4runtime-ts';
import { didYouMean } from '../../plugin/cli-flags.js';
import { ControllerError } from '../errors.js';
import type { DeviceRole, Inventory, InventoryDevice, InventoryHost, InventoryPeer, InventoryTls, InventoryVm, PlacementFunction } from './inventory.js';
import { addressField, controllerSection, federationSection, peerEntry, pluginEndpoint } from './load-trust.js';
import { Field, YamlSource } from './yaml-fields.js';
import { checkInventoryFiles } from './inventory-files.js';
import { checkDeviceConflicts, electionIdField } from './inventory-conflicts.js';

const CIDR = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Reads `path` and validates it, every file it names readable. @throws ControllerError BAD_CONFIG naming file, line and field (or the unreadable files). */
export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ControllerError('BAD_CONFIG', `inventory ${path}: cannot read it (${(e as Error).message}); pass an existing YAML file with --config`, { cause: e });
  }
  const inv = parseInventory(text, path);
  checkInventoryFiles(inv);
  return inv;
}

/** Validates inventory text; `file` names it in errors and anchors relative paths. */
export function parseInventory(text: string, file: string): Inventory {
  const src = YamlSource.parse(text, file);
  const top = new Field(src, [], src.value());
  const base = dirname(resolve(file));
  top.object('a mapping with devices, hosts, placement, vms', ['version', 'domain', 'journal', 'controller', 'federation', 'peers', 'devices', 'hosts', 'placement', 'vms']);
  const version = top.at('version');
  if (version.present && version.value !== 1) throw version.fail('1 (the only inventory version)');
  const domain = top.at('domain').present ? name(top.at('domain')) : 'default';
  const journal = resolve(base, top.at('journal').present ? top.at('journal').string('a directory path') : 'carryover-journal');

  const devices = new Map<string, InventoryDevice>();
  const devs = top.at('devices');
  if (!devs.present) throw devs.fail('a mapping of device names to devices (at least one)');
  for (const [n, f] of devs.object('a mapping of device names to devices')) devices.set(name(devs.at(n), n), device(n, f, base));
  if (devices.size === 0) throw devs.fail('at least one device');
  checkDeviceConflicts(devices, devs);
  const controller = top.at('controller').present ? controllerSection(top.at('controller'), base) : undefined;
  const daemons = [...devices.values()].filter((d) => d.plugin !== undefined).map((d) => d.name);
  if (daemons.length > 0 && !controller) throw top.at('controller').fail(`a controller section (tls: { ca, cert, key }, signingKey): ${daemons.join(', ')} ${daemons.length === 1 ? 'is' : 'are'} reached through plugin daemons, which need this controller's certificate and its signed tickets`);
  if (controller && !top.at('domain').present) throw top.at('domain').fail("this controller's domain name: its tickets are signed under it (plugins list it under migration.coordinators)");
  const federation = top.at('federation').present ? federationSection(top.at('federation'), base) : undefined;
  const peers = new Map<string, InventoryPeer>();
  const ps = top.at('peers');
  if (ps.present) {
    if (!federation) throw top.at('federation').fail("a federation section (tls: { cert, key }): peers are met with this controller's certificate");
    if (!top.at('domain').present) throw top.at('domain').fail('this controller\'s domain name: peers know it by that name');
    for (const [n, f] of ps.object('a mapping of peer domain names to peers')) {
      if (n === domain) throw ps.at(n).fail(`a domain other than this one ('${domain}')`);
      // A peer domain stands for its devices in this controller's plans: one name space.
      if (devices.has(n)) throw ps.at(n).fail(`a name no device here has ('${n}' is a device)`);
      peers.set(name(ps.at(n), n), peerEntry(n, f, base));
    }
  }

  const placements = new Map<string, PlacementFunction>();
  const pl = top.at('placement');
  if (pl.present) for (const [n, f] of pl.object('a mapping of placement names to functions')) placements.set(name(pl.at(n), n), placement(n, f, devices));

  for (const d of devices.values()) {
    const cp = d.counterpart;
    if (cp === undefined) continue;
    const where = devs.at(d.name).at('counterpart');
    if (d.role !== 'path') throw where.fail(`no counterpart on an edge device (edges are matched by host and placement); remove it, or give '${d.name}' role: path`);
    const other = devices.get(cp);
    if (!other) throw where.fail(`a device defined under 'devices' (known: ${[...devices.keys()].join(', ')})`);
    if (other.role !== 'path') throw where.fail(`a path device; '${cp}' has role ${other.role}`);
    if (other.counterpart !== d.name) throw where.fail(`a device that names '${d.name}' back as its counterpart ('${cp}' names ${other.counterpart === undefined ? 'none' : `'${other.counterpart}'`})`);
  }
  const hosts = new Map<string, InventoryHost>();
  for (const d of devices.values()) for (const h of d.hosts) hosts.set(h, { name: h, devices: [...(hosts.get(h)?.devices ?? []), d.name], placement: undefined });
  const hs = top.at('hosts');
  if (hs.present) {
    for (const [n, f] of hs.object('a mapping of host names to host settings')) {
      f.object('a mapping with placement', ['placement']);
      const known = hosts.get(n);
      if (!known) throw hs.at(n).fail(`a host some device serves (devices list their hosts under 'hosts'; known: ${[...hosts.keys()].join(', ') || 'none'})`);
      let p: string | undefined;
      if (f.at('placement').present) {
        p = f.at('placement').string();
        const fn = placements.get(p);
        if (!fn) throw f.at('placement').fail(`a placement function defined under 'placement' (known: ${[...placements.keys()].join(', ') || 'none'})`);
        const stray = fn.devices.find((d) => !known.devices.includes(d));
        if (stray !== undefined) throw f.at('placement').fail(`a placement over devices that serve ${n}; '${stray}' does not list ${n} in its hosts`);
      }
      hosts.set(n, { ...known, placement: p });
    }
  }
  for (const h of hosts.values()) {
    const edges = h.devices.filter((d) => devices.get(d)?.role === 'edge');
    if (edges.length > 1 && h.placement === undefined) throw hs.at(h.name).fail(`a placement for host ${h.name}: ${edges.length} edge devices serve it (${edges.join(', ')}), so carryover must know which one each flow's path hits`);
  }

  const vms = new Map<string, InventoryVm>();
  const vs = top.at('vms');
  if (vs.present) {
    for (const [n, f] of vs.object('a mapping of VM names to VMs')) {
      f.object('a mapping with address and host', ['address', 'host']);
      const address = f.at('address').string('an IPv4 address, e.g. 10.0.0.5');
      try {
        parseIPv4(address);
      } catch {
        throw f.at('address').fail('an IPv4 address, e.g. 10.0.0.5');
      }
      const host = f.at('host').string();
      if (!hosts.has(host)) throw f.at('host').fail(`a host some device serves (known: ${[...hosts.keys()].join(', ') || 'none'})${didYouMean(host, hosts.keys())}`);
      // Switches map a VM by its address: two names for one address would move each other's state.
      const same = [...vms.values()].find((v) => v.address === address);
      if (same) throw f.at('address').fail(`an address no other VM has: '${same.name}' is ${address} already, and the switches know a VM by its address (a migration of one would move the other's flows); remove one of them, or correct its address`);
      vms.set(name(vs.at(n), n), Object.freeze({ name: n, address, host }));
    }
  }
  for (const h of hosts.values()) Object.freeze(h);
  return Object.freeze({ source: file, domain, journal, controller, federation, peers, devices, hosts, placements, vms });
}

const NAME_RULE = 'letters, digits, ".", "_" or "-" (up to 63, starting with a letter or digit)';

/** A name given as a value (`n` absent) or as a mapping key (`n`). */
function name(f: Field, n?: string): string {
  const v = n ?? f.string();
  if (NAME.test(v)) return v;
  if (n === undefined) throw f.fail(`a name of ${NAME_RULE}`);
  throw new ControllerError('BAD_CONFIG', `${f.src.where(f.path)}: ${f.name}: the name ${JSON.stringify(n)} is not allowed; use ${NAME_RULE}`);
}

function nonEmpty(f: Field, expected: string): string {
  const v = f.string(expected);
  if (v.trim() === '') throw f.fail(expected);
  return v;
}

function device(n: string, f: Field, base: string): InventoryDevice {
  f.object('a mapping with address, deviceId and hosts (or plugin and hosts)', ['address', 'deviceId', 'electionId', 'p4runtimeRole', 'role', 'tls', 'registerAccess', 'grpcClient', 'openStreamsAhead', 'p4info', 'deviceConfig', 'plugin', 'hosts', 'subnets', 'counterpart']);
  const plugin = f.at('plugin').present ? pluginEndpoint(f.at('plugin')) : undefined;
  // A device behind a plugin daemon is reached only there: its switch address is the daemon's business.
  const address = plugin && !f.at('address').present ? undefined : addressField(f.at('address'), '10.1.0.7:9559');
  const deviceId = plugin && !f.at('deviceId').present ? undefined : f.at('deviceId').uint(64);
  const strList = (g: Field): string[] => (g.present ? g.list('a list of names').map((x) => x.string()) : []);
  const subnets = strList(f.at('subnets'));
  subnets.forEach((s, i) => {
    const c = CIDR.exec(s);
    if (!c || Number(c[2]) > 32 || (c[1] ?? '').split('.').some((o) => Number(o) > 255)) throw f.at('subnets').at(i).fail('an IPv4 subnet in CIDR form, e.g. 10.0.0.0/24');
  });
  let tls: InventoryTls | undefined;
  const t = f.at('tls');
  if (t.present) {
    t.object('a mapping with ca, and cert + key for mTLS', ['ca', 'cert', 'key']);
    const cert = t.at('cert').present ? resolve(base, t.at('cert').string('a PEM file path')) : undefined;
    const key = t.at('key').present ? resolve(base, t.at('key').string('a PEM file path')) : undefined;
    if ((cert === undefined) !== (key === undefined)) throw t.fail('cert and key together (mTLS), or neither');
    tls = Object.freeze({ ca: resolve(base, t.at('ca').string('the CA certificate (PEM file path)')), cert, key });
  }
  const path = (g: Field): string | undefined => (g.present ? resolve(base, g.string('a file path')) : undefined);
  return Object.freeze({
    name: n,
    address,
    deviceId,
    plugin,
    electionId: f.at('electionId').present ? electionIdField(f.at('electionId')) : 10n,
    p4runtimeRole: f.at('p4runtimeRole').present ? nonEmpty(f.at('p4runtimeRole'), 'a P4Runtime role name, e.g. carryover') : undefined,
    role: (f.at('role').present ? f.at('role').oneOf<DeviceRole>(['edge', 'path']) : 'edge'),
    tls,
    registerAccess: f.at('registerAccess').present ? f.at('registerAccess').oneOf(['probe', 'p4runtime', 'inband'] as const) : 'probe',
    grpcClient: f.at('grpcClient').present ? f.at('grpcClient').oneOf(['http2', 'grpc-js'] as const) : 'http2',
    openStreamsAhead: f.at('openStreamsAhead').present ? f.at('openStreamsAhead').bool() : true,
    p4info: path(f.at('p4info')),
    deviceConfig: path(f.at('deviceConfig')),
    hosts: Object.freeze(strList(f.at('hosts'))),
    subnets: Object.freeze(subnets),
    counterpart: f.at('counterpart').present ? f.at('counterpart').string('the name of the path device on the other side') : undefined,
  });
}

function placement(n: string, f: Field, devices: ReadonlyMap<string, InventoryDevice>): PlacementFunction {
  f.object('a mapping with kind, algorithm, fields and devices', ['kind', 'algorithm', 'fields', 'devices']);
  f.at('kind').oneOf(['hash'] as const);
  const fields = f.at('fields').list('a list of flow-key field names, e.g. [vm_addr, remote_addr, vm_port, remote_port, protocol]').map((x) => x.string());
  if (fields.length === 0) throw f.at('fields').fail('at least one flow-key field');
  const ds = f.at('devices').list('a list of device names').map((x, i) => {
    const d = x.string();
    if (!devices.has(d)) throw f.at('devices').at(i).fail(`a device defined under 'devices' (known: ${[...devices.keys()].join(', ')})`);
    return d;
  });
  if (ds.length === 0) throw f.at('devices').fail('at least one device');
  return Object.freeze({ name: n, kind: 'hash', algorithm: f.at('algorithm').oneOf(['crc32', 'crc16', 'csum16'] as const), fields: Object.freeze(fields), devices: Object.freeze(ds) });
}

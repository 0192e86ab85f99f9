/**
 * One trust domain's files, as an operator would lay them out (README "Deploying a plugin beside a
 * switch", "Two domains"): the domain's CA, its controller's certificate (client and server: it
 * calls its plugins and serves peer controllers), its Ed25519 ticket-signing key pair, and a server
 * certificate per plugin daemon — plus the daemon's YAML configuration. Certificates come from the
 * openssl CLI at run time (TestPki). For the tests, benchmarks and the two-domain demo.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PemPair, TestPki } from '../plugin/testing/test-pki.js';

/** Paths of a certificate and its key. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** A domain's trust material on disk. */
export interface DomainFiles {
  readonly domain: string;
  readonly dir: string;
  /** The domain's CA certificate. */
  readonly ca: string;
  /** The controller's identity (CN `controller-<domain>`), usable as client and server. */
  readonly controllerName: string;
  readonly controller: CertFiles;
  /** The coordinator's Ed25519 key pair (tickets). */
  readonly signingKey: string;
  readonly publicKey: string;
  /**
   * A plugin daemon's certificate (CN and DNS name `name`, IP 127.0.0.1), made on first use: server
   * and client, since peer to peer a source plugin calls the destination's.
   */
  device(name: string): CertFiles;
  /** A client certificate from this domain's CA under another name (e.g. an untrusted caller). */
  client(cn: string): CertFiles;
}

/** Writes `pair` as `<base>.pem` and `<base>.key` under `dir`. */
function write(dir: string, base: string, pair: PemPair): CertFiles {
  const cert = join(dir, `${base}.pem`);
  const key = join(dir, `${base}.key`);
  writeFileSync(cert, pair.certPem);
  writeFileSync(key, pair.keyPem, { mode: 0o600 });
  return { cert, key };
}

/** Makes domain `domain`'s CA, controller certificate and signing key under `dir/<domain>`. */
export function makeDomainFiles(pki: TestPki, dir: string, domain: string): DomainFiles {
  const d = join(dir, domain);
  mkdirSync(d, { recursive: true });
  const ca = pki.ca(`${domain} CA`);
  const caPath = join(d, 'ca.pem');
  writeFileSync(caPath, ca.certPem);
  const controllerName = `controller-${domain}`;
  const controller = write(d, controllerName, pki.issue(ca, { cn: controllerName, usage: 'both', san: ['IP:127.0.0.1', `DNS:${controllerName}`] }));
  const keys = generateKeyPairSync('ed25519');
  const signingKey = join(d, `${domain}.key`);
  const publicKey = join(d, `${domain}.pub.pem`);
  writeFileSync(signingKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const devices = new Map<string, CertFiles>();
  return {
    domain,
    dir: d,
    ca: caPath,
    controllerName,
    controller,
    signingKey,
    publicKey,
    device: (name) => {
      const known = devices.get(name);
      if (known) return known;
      const files = write(d, name, pki.issue(ca, { cn: name, usage: 'both', san: ['IP:127.0.0.1', `DNS:${name}`] }));
      devices.set(name, files);
      return files;
    },
    client: (cn) => write(d, cn, pki.issue(ca, { cn, usage: 'client' })),
  };
}

/** What a plugin daemon's configuration names. */
export interface DaemonConfig {
  readonly switchAddress: string;
  readonly deviceId: bigint;
  readonly electionId: number;
  readonly p4info: string;
  /** The device name tickets use. */
  readonly device: string;
  readonly files: DomainFiles;
  /** Callers trusted (default: the domain's controller). */
  readonly trustedCallers?: readonly string[];
  /** Coordinator name → public key file (default: the domain's own). */
  readonly coordinators?: Readonly<Record<string, string>>;
  readonly requiredSigners?: readonly string[];
  readonly deltaIntervalMs?: number;
  /** migration.frozenWarnMs (the daemon's default when absent). */
  readonly frozenWarnMs?: number;
  /** `index` for a daemon started with the switch's pipeline, before any flow (no slot-group scan). */
  readonly snapshotSource?: 'auto' | 'index';
  readonly logLevel?: 'debug' | 'info' | 'warn';
  /** Where its migration protocol listens (default 127.0.0.1:0; a fixed port lets a restart keep its address). */
  readonly listen?: string;
  /** How often the daemon logs its health (ms; the daemon's default when absent). */
  readonly healthIntervalMs?: number;
  /** P4Runtime to the switch over TLS: the switch's CA, and a client certificate when it asks for one (paths). */
  readonly switchTls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
}

/** A flat mapping as one line of YAML flow style, values quoted (e.g. file paths). */
export function yamlFlowMap(o: Readonly<Record<string, string | undefined>>): string {
  return `{ ${Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`;
}

/** Writes `<dir>/<device>.plugin.yaml` for `carryover plugin --config`; returns its path. */
export function writeDaemonConfig(c: DaemonConfig): string {
  const cert = c.files.device(c.device);
  const coordinators = c.coordinators ?? { [c.files.domain]: c.files.publicKey };
  const path = join(c.files.dir, `${c.device}.plugin.yaml`);
  writeFileSync(path, [
    `switch: { address: "${c.switchAddress}", deviceId: ${c.deviceId}, electionId: ${c.electionId} }`,
    ...(c.switchTls ? [`tls: ${yamlFlowMap(c.switchTls)}`] : []),
    `p4info: ${JSON.stringify(c.p4info)}`,
    `logLevel: ${c.logLevel ?? 'warn'}`,
    ...(c.healthIntervalMs !== undefined ? [`healthIntervalMs: ${c.healthIntervalMs}`] : []),
    'migration:',
    `  listen: ${c.listen ?? '127.0.0.1:0'}`,
    `  device: ${c.device}`,
    `  tls: { ca: ${JSON.stringify(c.files.ca)}, cert: ${JSON.stringify(cert.cert)}, key: ${JSON.stringify(cert.key)} }`,
    `  trustedCallers: [${(c.trustedCallers ?? [c.files.controllerName]).join(', ')}]`,
    `  coordinators: { ${Object.entries(coordinators).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`,
    ...(c.requiredSigners ? [`  requiredSigners: [${c.requiredSigners.join(', ')}]`] : []),
    ...(c.deltaIntervalMs !== undefined ? [`  deltaIntervalMs: ${c.deltaIntervalMs}`] : []),
    ...(c.frozenWarnMs !== undefined ? [`  frozenWarnMs: ${c.frozenWarnMs}`] : []),
    ...(c.snapshotSource ? [`  snapshotSource: ${c.snapshotSource}`] : []),
    '',
  ].join('\n'));
  return path;
}

/** The inventory's `controller` section for this domain (YAML lines, indented for the top level). */
export function controllerYaml(f: DomainFiles): string {
  return `controller: { tls: { ca: ${JSON.stringify(f.ca)}, cert: ${JSON.stringify(f.controller.cert)}, key: ${JSON.stringify(f.controller.key)} }, signingKey: ${JSON.stringify(f.signingKey)} }`;
}

/** The inventory's `federation` section: where this controller serves peers (if it does) and its certificate. */
export function federationYaml(f: DomainFiles, listen?: string): string {
  return `federation: { ${listen ? `listen: ${listen}, ` : ''}tls: { cert: ${JSON.stringify(f.controller.cert)}, key: ${JSON.stringify(f.controller.key)} } }`;
}

/** The inventory's `peers` section: each peer's CA, controller identity, ticket key and (if given) address. */
export function peersYaml(peers: readonly { readonly files: DomainFiles; readonly address?: string }[]): string {
  return ['peers:', ...peers.map(({ files: p, address }) => `  ${p.domain}: { ${address ? `address: ${address}, serverName: ${p.controllerName}, ` : ''}ca: ${JSON.stringify(p.ca)}, identity: ${p.controllerName}, ticketKey: ${JSON.stringify(p.publicKey)} }`)].join('\n');
}

/** A domain's inventory, as its operator writes it: the controller's identity, federation, peers, devices (YAML lines), VMs. */
export function siteYaml(o: {
  readonly files: DomainFiles;
  /** Where its controller serves peers (`127.0.0.1:0`), or undefined when it only sends migrations. */
  readonly listen?: string;
  readonly peers?: readonly { readonly files: DomainFiles; readonly address?: string }[];
  /** `name: { … }` entries under devices. */
  readonly devices: readonly string[];
  /** `name: { … }` entries under vms. */
  readonly vms?: readonly string[];
}): string {
  return [
    `domain: ${o.files.domain}`,
    'journal: ./journal',
    controllerYaml(o.files),
    ...(o.peers ? [federationYaml(o.files, o.listen), peersYaml(o.peers)] : []),
    'devices:',
    ...o.devices.map((d) => `  ${d}`),
    ...(o.vms ? ['vms:', ...o.vms.map((v) => `  ${v}`)] : []),
    '',
  ].join('\n');
}

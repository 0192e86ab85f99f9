/**
 * The trust sections of an inventory: the controller's own identity towards its plugin daemons
 * (`controller`: mutual-TLS files and the Ed25519 key that signs its migration tickets) and a
 * device's plugin endpoint (`devices.X.plugin`). Files are read at load, so a missing or wrong
 * file is an error naming the file, the line and the field — not a failure halfway through a
 * migration.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pemHolds, tlsIdentityProblem } from '../../plugin/index.js';
import type { InventoryController, InventoryFederation, InventoryPeer, InventoryPluginEndpoint } from './inventory.js';
import type { Field } from './yaml-fields.js';

export const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A `host:port` field with a port 1..65535 (0 too for an address to listen on: any free port). */
export function addressField(f: Field, example: string, listen = false): string {
  const address = f.string(`'host:port', e.g. ${example}`);
  const m = ADDRESS.exec(address);
  const min = listen ? 0 : 1;
  if (!m || Number(m[2]) < min || Number(m[2]) > 65535) throw f.fail(`'host:port' with a port ${min}..65535, e.g. ${example}`);
  // A dotted quad is an IPv4 address, each part 0..255: '999.1.1.1' would otherwise be looked up as a name.
  const quad = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(m[1] ?? '');
  if (quad && quad.slice(1).some((o) => Number(o) > 255)) throw f.fail(`'host:port' whose IPv4 address has parts 0..255, e.g. ${example}`);
  return address;
}

/** What a PEM file must hold. */
type PemKind = 'certificate' | 'private key' | 'Ed25519 private key' | 'Ed25519 public key';

/** A path field naming a readable PEM file of `kind`; returns the absolute path. */
export function pemFileField(f: Field, base: string, kind: PemKind): string {
  const path = resolve(base, f.string(`a path to a PEM file (${kind})`));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw f.fail(`a readable PEM file (${kind}); cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const ok = ((): boolean => {
    try {
      switch (kind) {
        case 'certificate':
          return text.includes('-----BEGIN CERTIFICATE-----');
        case 'private key':
          return /-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----/.test(text);
        case 'Ed25519 private key':
          return createPrivateKey(text).asymmetricKeyType === 'ed25519';
        case 'Ed25519 public key':
          // createPublicKey also derives one from a private key: a private key is not what goes here.
          return text.includes('-----BEGIN PUBLIC KEY-----') && createPublicKey(text).asymmetricKeyType === 'ed25519';
      }
    } catch {
      return false;
    }
  })();
  if (!ok) throw f.fail(`a PEM file holding a${kind.startsWith('E') ? 'n' : ''} ${kind}; ${path} holds ${pemHolds(text)}`);
  return path;
}

/** The `controller` section: mutual TLS towards the plugins, and the ticket-signing key. */
export function controllerSection(f: Field, base: string): InventoryController {
  f.object('a mapping with tls and signingKey', ['tls', 'signingKey']);
  const t = f.at('tls');
  t.object("a mapping with ca, cert and key (the controller's mutual TLS towards its plugins)", ['ca', 'cert', 'key']);
  const tls = Object.freeze({ ca: pemFileField(t.at('ca'), base, 'certificate'), cert: pemFileField(t.at('cert'), base, 'certificate'), key: pemFileField(t.at('key'), base, 'private key') });
  // The daemons' TLS would refuse such a pair with words that name neither file.
  const problem = tlsIdentityProblem(readFileSync(tls.cert), readFileSync(tls.key), 'client');
  if (problem) throw t.at(problem.startsWith('the key') ? 'key' : 'cert').fail(`the controller's client certificate and its key (${tls.cert}, ${tls.key}): ${problem}`);
  return Object.freeze({ tls, signingKey: pemFileField(f.at('signingKey'), base, 'Ed25519 private key') });
}

/** A device's `plugin` section: where its daemon serves the migration protocol. */
export function pluginEndpoint(f: Field): InventoryPluginEndpoint {
  f.object('a mapping with address (and serverName when the certificate names another host)', ['address', 'serverName']);
  return Object.freeze({
    address: addressField(f.at('address'), '10.1.0.7:50051'),
    serverName: f.at('serverName').present ? f.at('serverName').string('the name in the plugin\'s server certificate') : undefined,
  });
}

/** The `federation` section: where this controller serves peer controllers, and its certificate towards them. */
export function federationSection(f: Field, base: string): InventoryFederation {
  f.object('a mapping with tls (cert, key) and optionally listen', ['listen', 'tls']);
  const t = f.at('tls');
  t.object("a mapping with cert and key (this controller's certificate towards peer controllers)", ['cert', 'key']);
  return Object.freeze({
    listen: f.at('listen').present ? addressField(f.at('listen'), '0.0.0.0:50061', true) : undefined,
    tls: Object.freeze({ cert: pemFileField(t.at('cert'), base, 'certificate'), key: pemFileField(t.at('key'), base, 'private key') }),
  });
}

/** One entry of `peers`: another domain's controller and what it is trusted with. */
export function peerEntry(name: string, f: Field, base: string): InventoryPeer {
  f.object('a mapping with ca, identity, ticketKey and (to send migrations there) address', ['address', 'serverName', 'ca', 'identity', 'ticketKey']);
  return Object.freeze({
    name,
    address: f.at('address').present ? addressField(f.at('address'), 'ctl.dc-b.example:50061') : undefined,
    serverName: f.at('serverName').present ? f.at('serverName').string("the name in the peer controller's server certificate") : undefined,
    ca: pemFileField(f.at('ca'), base, 'certificate'),
    identity: f.at('identity').string("the CN or subjectAltName the peer controller's certificate carries, e.g. controller-dc-b"),
    ticketKey: pemFileField(f.at('ticketKey'), base, 'Ed25519 public key'),
  });
}

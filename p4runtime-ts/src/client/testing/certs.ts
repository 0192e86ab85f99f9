/**
 * TEST HELPER — generates a throwaway PKI with the `openssl` CLI for TLS/mTLS tests: a CA, a server
 * certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and a client certificate, all signed by
 * the CA, in a fresh temporary directory. EC P-256 keys keep generation fast.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material of one generated PKI, plus the files' paths. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  readonly paths: { readonly caCert: string; readonly clientCert: string; readonly clientKey: string };
  /** Deletes the directory. */
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, cn: string, ext: string): void {
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

/** Generates a CA, a server certificate for 127.0.0.1 and a client certificate. */
export function generateTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'p4rt-pki-'));
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=carryover test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  issue(dir, 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  issue(dir, 'client', 'carryover-test-client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    dir,
    caCert: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    paths: { caCert: join(dir, 'ca.pem'), clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

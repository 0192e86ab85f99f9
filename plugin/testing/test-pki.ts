/**
 * A throwaway PKI for mutual-TLS tests, made at test time with the openssl CLI: any number of
 * CAs (a second CA is "the wrong CA"), server and client certificates with chosen CN and
 * subjectAltNames, and expired ones. Keys are EC P-256 (fast to make). Not product code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA or a certificate it issued, as PEM text. */
export interface PemPair {
  readonly name: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** What to put in an issued certificate. */
export interface IssueOptions {
  readonly cn: string;
  /** `both`: a controller that serves its peers and calls them with one certificate. */
  readonly usage: 'server' | 'client' | 'both';
  /** subjectAltName entries, e.g. `DNS:localhost`, `IP:127.0.0.1`, `URI:spiffe://dc-a/controller`. */
  readonly san?: readonly string[];
  /** Its validity ended before the test runs. */
  readonly expired?: boolean;
}

/** Whether the openssl CLI is there (tests skip with this reason when it is not). */
export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Makes CAs and certificates in a temporary directory; `dispose` removes it. */
export class TestPki {
  private readonly dir = mkdtempSync(join(tmpdir(), 'carryover-test-pki-'));
  private n = 0;

  private ssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  private read(f: string): string {
    return readFileSync(join(this.dir, f), 'utf8');
  }

  /** A self-signed CA named `name`. */
  ca(name: string): PemPair {
    const id = `ca${++this.n}`;
    this.ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.crt`, '-days', '2', '-subj', `/CN=${name}`);
    return { name: id, certPem: this.read(`${id}.crt`), keyPem: this.read(`${id}.key`) };
  }

  /** A certificate issued by `ca`. */
  issue(ca: PemPair, o: IssueOptions): PemPair {
    const id = `cert${++this.n}`;
    writeFileSync(join(this.dir, `${ca.name}.crt`), ca.certPem);
    writeFileSync(join(this.dir, `${ca.name}.key`), ca.keyPem);
    const ext = [`extendedKeyUsage=${o.usage === 'server' ? 'serverAuth' : o.usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth'}`];
    if (o.san && o.san.length > 0) ext.push(`subjectAltName=${o.san.join(',')}`);
    writeFileSync(join(this.dir, `${id}.ext`), `${ext.join('\n')}\n`);
    this.ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', `/CN=${o.cn}`);
    // -days -1 ends the validity a day before it starts: expired from the start.
    this.ssl('x509', '-req', '-in', `${id}.csr`, '-CA', `${ca.name}.crt`, '-CAkey', `${ca.name}.key`, '-CAcreateserial', '-out', `${id}.crt`, '-days', o.expired ? '-1' : '2', '-extfile', `${id}.ext`);
    return { name: id, certPem: this.read(`${id}.crt`), keyPem: this.read(`${id}.key`) };
  }

  /** Writes `text` into the PKI's directory; returns its path (for config-file tests). */
  file(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    return p;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

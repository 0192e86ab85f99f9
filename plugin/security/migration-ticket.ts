/**
 * Migration tickets (DESIGN.md §1 "mutual authentication", issue 14): a coordinator's signed
 * statement that one migration — this VM, this id, these source and destination devices — may
 * touch a device until an expiry. A plugin acts on a caller's request only with a ticket that
 * verifies against a coordinator key its configuration trusts (across domains: both
 * coordinators' signatures), binds to exactly that request, has not expired, and has not been
 * seen before (replays are refused).
 *
 * Signatures are Ed25519 (node:crypto) over a canonical JSON encoding of the claims: keys sorted,
 * arrays of devices sorted, no whitespace — so a verifier recomputes the exact signed bytes.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { EdgePluginError } from '../errors.js';

/** What a ticket grants. */
export interface TicketClaims {
  readonly migrationId: string;
  readonly vm: string;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  /** Unix milliseconds. */
  readonly notBeforeMs: number;
  readonly expiresAtMs: number;
  /** Random, unique per ticket: what replay detection remembers. */
  readonly nonce: string;
}

/** One coordinator's signature. */
export interface TicketSignature {
  /** The coordinator (its domain name, e.g. `dc-a`), which names the key to verify with. */
  readonly signer: string;
  /** base64 Ed25519 signature over the canonical claims. */
  readonly signature: string;
}

/** A ticket as it travels: claims and one or more signatures. */
export interface MigrationTicket {
  readonly claims: TicketClaims;
  readonly signatures: readonly TicketSignature[];
}

/** The request a ticket must match. */
export interface TicketRequest {
  readonly migrationId: string;
  readonly vm: string;
  /** The device being asked (must be one of the ticket's sources or destinations). */
  readonly device: string;
  /**
   * An Abort (`abort`) or a DeleteAtSource (`delete`): a ticket of a migration that ended on this
   * device by that same call is admitted (marked `repeated` in the answer), so that the call
   * repeated answers done (every call is idempotent) instead of failing a recovery for good (field
   * walkthroughs 17 F2, 19 N1). Never an Abort after a commit, nor anything else.
   */
  readonly repeat?: 'abort' | 'delete';
}

/** The canonical bytes that are signed. */
export function canonicalClaims(c: TicketClaims): Buffer {
  const sorted = { destinations: [...c.destinations].sort(), expiresAtMs: c.expiresAtMs, migrationId: c.migrationId, nonce: c.nonce, notBeforeMs: c.notBeforeMs, sources: [...c.sources].sort(), vm: c.vm };
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

/** Key material as PEM text or a KeyObject. */
export type KeyInput = string | KeyObject;

const privateKey = (k: KeyInput): KeyObject => (typeof k === 'string' ? createPrivateKey(k) : k);
const publicKey = (k: KeyInput): KeyObject => (typeof k === 'string' ? createPublicKey(k) : k);

/**
 * Issues a ticket signed by `signer` (the coordinator's Ed25519 private key).
 * @example
 * const t = issueTicket({ migrationId: 'm1', vm: 'vm-7', sources: ['edge-1'], destinations: ['edge-2'], ttlMs: 60_000 }, 'dc-a', key);
 */
export function issueTicket(
  p: { readonly migrationId: string; readonly vm: string; readonly sources: readonly string[]; readonly destinations: readonly string[]; readonly ttlMs: number; readonly nowMs?: number },
  signer: string,
  key: KeyInput,
): MigrationTicket {
  if (!(p.ttlMs > 0 && p.ttlMs <= 24 * 3600_000)) throw new EdgePluginError('BAD_OPTIONS', `ticket ttlMs ${p.ttlMs}: expected 1 ms .. 24 h; a ticket should live as long as one migration`);
  const now = p.nowMs ?? Date.now();
  const claims: TicketClaims = Object.freeze({
    migrationId: p.migrationId,
    vm: p.vm,
    sources: Object.freeze([...p.sources]),
    destinations: Object.freeze([...p.destinations]),
    notBeforeMs: now,
    expiresAtMs: now + p.ttlMs,
    nonce: randomBytes(16).toString('base64url'),
  });
  return Object.freeze({ claims, signatures: Object.freeze([signTicketClaims(claims, signer, key)]) });
}

/** One more signature over the same claims (the second coordinator of a cross-domain migration). */
export function cosignTicket(t: MigrationTicket, signer: string, key: KeyInput): MigrationTicket {
  return Object.freeze({ claims: t.claims, signatures: Object.freeze([...t.signatures.filter((s) => s.signer !== signer), signTicketClaims(t.claims, signer, key)]) });
}

function signTicketClaims(claims: TicketClaims, signer: string, key: KeyInput): TicketSignature {
  return Object.freeze({ signer, signature: sign(null, canonicalClaims(claims), privateKey(key)).toString('base64') });
}

/** How a plugin checks tickets. */
export interface TicketVerifierOptions {
  /** Coordinator public keys by signer name. */
  readonly trusted: Readonly<Record<string, KeyInput>>;
  /** Signers whose signature every ticket must carry (default: any one trusted signer). */
  readonly required?: readonly string[];
  /** Tolerated clock difference with the coordinators. Default 2000 ms. */
  readonly clockSkewMs?: number;
  readonly now?: () => number;
}

/**
 * Verifies tickets and refuses replays. A ticket is presented with every call of its migration
 * (calls are retried, so the same ticket verifies again while the migration runs); once the
 * migration ends the plugin retires it, and from then on its ticket is a replay. Also refused: a
 * forged or foreign signature, a ticket outside its validity window, one that does not name the
 * request.
 */
export class TicketVerifier {
  private readonly keys: ReadonlyMap<string, KeyObject>;
  private readonly required: readonly string[];
  private readonly skew: number;
  private readonly now: () => number;
  /** nonce → its migration, whether that migration ended here, and when it can be forgotten. */
  private readonly seen = new Map<string, { readonly migrationId: string; readonly retired: false | 'aborted' | 'deleted' | 'ended'; readonly forgetAtMs: number }>();

  constructor(o: TicketVerifierOptions) {
    this.keys = new Map(Object.entries(o.trusted).map(([n, k]) => [n, publicKey(k)]));
    // createPublicKey takes an EC certificate too, under which every ticket would then fail to verify.
    for (const [n, k] of this.keys) if (k.asymmetricKeyType !== 'ed25519') throw new EdgePluginError('BAD_OPTIONS', `ticket verifier: the key trusted for '${n}' is of type ${k.asymmetricKeyType ?? 'unknown'}, not Ed25519 (tickets are signed with Ed25519); give ${n}'s Ed25519 public key`);
    if (this.keys.size === 0) throw new EdgePluginError('BAD_OPTIONS', 'ticket verifier: no trusted coordinator keys; configure at least one');
    this.required = o.required ?? [];
    for (const r of this.required) if (!this.keys.has(r)) throw new EdgePluginError('BAD_OPTIONS', `ticket verifier: required signer '${r}' has no trusted key; add it to trusted`);
    this.skew = o.clockSkewMs ?? 2000;
    this.now = o.now ?? Date.now;
  }

  /**
   * Checks `t` for `req`; returns its claims (with `repeated` when `req.repeat` repeats the call
   * that ended the migration here) or throws TICKET_REJECTED naming the reason.
   */
  verify(t: MigrationTicket, req: TicketRequest): TicketClaims & { readonly repeated?: true } {
    const c = t.claims;
    const bytes = canonicalClaims(c);
    const valid = new Set<string>();
    for (const s of t.signatures) {
      const key = this.keys.get(s.signer);
      if (!key) continue;
      let ok: boolean;
      try {
        ok = verify(null, bytes, key, Buffer.from(s.signature, 'base64'));
      } catch {
        ok = false;
      }
      if (!ok) throw reject(`the signature of '${s.signer}' does not verify: the ticket was altered or not signed by that coordinator — check the public key configured for '${s.signer}' (a controller's peers.${s.signer}.ticketKey, a plugin daemon's migration.coordinators.${s.signer}) against ${s.signer}'s signing key`);
      valid.add(s.signer);
    }
    if (valid.size === 0) throw reject(`no signature by a trusted coordinator (signed by ${t.signatures.map((s) => s.signer).join(', ') || 'nobody'}; trusted: ${[...this.keys.keys()].join(', ')})`);
    const missing = this.required.filter((r) => !valid.has(r));
    if (missing.length > 0) throw reject(`missing the signature of ${missing.join(', ')} (a cross-domain migration needs both coordinators)`);
    const now = this.now();
    if (now + this.skew < c.notBeforeMs) throw reject(`not valid before ${new Date(c.notBeforeMs).toISOString()}`);
    if (now - this.skew >= c.expiresAtMs) throw reject(`expired at ${new Date(c.expiresAtMs).toISOString()}; ask the coordinator for a new ticket`);
    if (c.migrationId !== req.migrationId) throw reject(`issued for migration '${c.migrationId}', not '${req.migrationId}'`);
    if (c.vm !== req.vm) throw reject(`issued for VM '${c.vm}', not '${req.vm}'`);
    if (!c.sources.includes(req.device) && !c.destinations.includes(req.device)) throw reject(`does not name device '${req.device}' (sources ${c.sources.join(', ')}; destinations ${c.destinations.join(', ')})`);
    this.forgetExpired(now);
    const prior = this.seen.get(c.nonce);
    if ((prior?.retired === 'aborted' && req.repeat === 'abort') || (prior?.retired === 'deleted' && req.repeat === 'delete')) return { ...c, repeated: true };
    if (prior?.retired) throw reject(`replayed: migration '${c.migrationId}' has ended on this device; a new migration needs a new ticket`);
    if (!prior) this.seen.set(c.nonce, { migrationId: c.migrationId, retired: false, forgetAtMs: c.expiresAtMs + this.skew });
    return c;
  }

  /** Marks every ticket of `migrationId` as used up (the migration rolled back, was deleted at this source, or otherwise ended here: `how`). */
  retire(migrationId: string, how: 'aborted' | 'deleted' | 'ended' = 'ended'): void {
    for (const [n, s] of this.seen) if (s.migrationId === migrationId && s.retired !== 'ended') this.seen.set(n, { ...s, retired: how });
  }

  /** Nonces remembered (bounded by the tickets still valid). */
  get remembered(): number {
    return this.seen.size;
  }

  private forgetExpired(now: number): void {
    // A nonce need only be remembered while its ticket could still verify.
    for (const [n, s] of this.seen) if (s.forgetAtMs <= now) this.seen.delete(n);
  }
}

function reject(why: string): EdgePluginError {
  return new EdgePluginError('TICKET_REJECTED', `migration ticket refused: ${why}`);
}

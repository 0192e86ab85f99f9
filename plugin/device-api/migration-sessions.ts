/**
 * The migrations one device is part of: at most `limit` at once (the data plane tracks changes
 * per migration in a bounded number of trackers), each call idempotent. A call repeated with the
 * same key while the first is running joins it; after it succeeded, the retry gets the same
 * answer without touching the switch again. A failed call is forgotten, so a retry runs it anew
 * (the device operations themselves are safe to repeat).
 */
import { DEVICE_FAILURE_REASONS } from './device-api.js';
import type { DeviceFailureReason, MigrationRef } from './device-api.js';

/** A device API call refused or failed, with its reason. */
export class DeviceApiFailure extends Error {
  override readonly name = 'DeviceApiFailure';
  constructor(
    readonly reason: DeviceFailureReason,
    message: string,
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  /** Whether a value is one of the closed set of reasons. */
  static isReason(v: unknown): v is DeviceFailureReason {
    return (DEVICE_FAILURE_REASONS as readonly unknown[]).includes(v);
  }
}

interface Session {
  readonly vm: string;
  /** Call key → its running or settled result. */
  readonly calls: Map<string, Promise<unknown>>;
}

/** The open migrations of one device. */
export class MigrationSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly device: string,
    readonly limit: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new DeviceApiFailure('PEER_REJECTED', `device ${device}: concurrent-migration limit ${limit}; expected an integer >= 1`);
  }

  /** Opens (or finds) the session of `m`; refuses a second VM under one id, and past the limit. */
  open(m: MigrationRef): void {
    const s = this.sessions.get(m.migrationId);
    if (s) {
      if (s.vm !== m.vm) throw new DeviceApiFailure('PEER_REJECTED', `device ${this.device}: migration ${m.migrationId} is for VM '${s.vm}', not '${m.vm}'`);
      return;
    }
    const sameVm = [...this.sessions.entries()].find(([, x]) => x.vm === m.vm);
    if (sameVm) throw new DeviceApiFailure('PEER_REJECTED', `device ${this.device}: VM '${m.vm}' is already migrating (migration ${sameVm[0]}); finish or abort it first`);
    if (this.sessions.size >= this.limit) {
      throw new DeviceApiFailure('CONCURRENCY_LIMIT', `device ${this.device}: ${this.sessions.size} migrations already in progress (${[...this.sessions.keys()].join(', ')}), its limit is ${this.limit}; retry when one ends`);
    }
    this.sessions.set(m.migrationId, { vm: m.vm, calls: new Map() });
  }

  /** Whether `migrationId` is open here. */
  has(migrationId: string): boolean {
    return this.sessions.has(migrationId);
  }

  /** Open migrations. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Runs `fn` once per (migration, key): a concurrent repeat joins the running call, a later
   * repeat gets the settled result; a failure is not remembered.
   */
  once<T>(m: MigrationRef, key: string, fn: () => Promise<T>): Promise<T> {
    const s = this.sessions.get(m.migrationId);
    if (!s) return Promise.reject(new DeviceApiFailure('WRONG_PHASE', `device ${this.device}: migration ${m.migrationId} is not open here; call prepare first`));
    if (s.vm !== m.vm) return Promise.reject(new DeviceApiFailure('PEER_REJECTED', `device ${this.device}: migration ${m.migrationId} is for VM '${s.vm}', not '${m.vm}'`));
    const known = s.calls.get(key) as Promise<T> | undefined;
    if (known) return known;
    const p = fn();
    s.calls.set(key, p);
    p.catch(() => {
      if (s.calls.get(key) === p) s.calls.delete(key);
    });
    return p;
  }

  /** Closes the session of `migrationId` (after commit or abort); a no-op when it is not open. */
  close(migrationId: string): void {
    this.sessions.delete(migrationId);
  }
}

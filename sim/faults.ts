/**
 * Fault injection, driven from tests: fail or delay the next N calls of an RPC with a chosen
 * code, close every open stream, or restart the switch losing all state.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { P4RuntimeError } from 'p4runtime-ts';
import type { P4RuntimeMethod } from './p4rt/service-definition.js';
import { P4RUNTIME_METHODS } from './p4rt/service-definition.js';

/** Which RPC a fault applies to; '*' = any. */
export type FaultTarget = P4RuntimeMethod | '*';

interface PlannedFault {
  readonly target: FaultTarget;
  remaining: number;
  readonly kind: 'fail' | 'delay';
  readonly code: number;
  readonly message: string;
  readonly delayMs: number;
}

/** What the service must do to one call. */
export interface FaultDecision {
  readonly delayMs: number;
  readonly fail: { readonly code: number; readonly message: string } | null;
}

/** The operations faults need from the switch. */
export interface FaultHooks {
  closeAllStreams(code: number, message: string): number;
  restart(downForMs: number): Promise<void>;
}

function checkTarget(target: FaultTarget): void {
  if (target !== '*' && !P4RUNTIME_METHODS.includes(target)) {
    throw new P4RuntimeError('BAD_OPTIONS', `fault target '${String(target)}' is not an RPC; use one of ${P4RUNTIME_METHODS.join(', ')} or '*'`);
  }
}

function checkCount(count: number): void {
  if (!(Number.isInteger(count) && count >= 1)) throw new P4RuntimeError('BAD_OPTIONS', `fault count ${count} must be an integer >= 1`);
}

/** The fault controls of one switch. */
export class SimFaults {
  private plan: PlannedFault[] = [];
  /** Calls failed and delayed, and digest messages lost, so far, for assertions. */
  readonly injected = { failed: 0, delayed: 0, digestsLost: 0 };
  private digestsToLose = 0;
  private digestsToPass = 0;

  constructor(private readonly hooks: FaultHooks) {}

  /**
   * The next `count` calls of `target` fail with `code` (a gRPC status number, e.g.
   * `status.UNAVAILABLE`). StreamChannel calls end with that status before any message.
   */
  failNext(target: FaultTarget, options: { readonly code: number; readonly message?: string; readonly count?: number }): void {
    checkTarget(target);
    const count = options.count ?? 1;
    checkCount(count);
    if (!(Number.isInteger(options.code) && options.code > 0 && options.code <= 16)) {
      throw new P4RuntimeError('BAD_OPTIONS', `fault code ${options.code} must be a non-OK gRPC status (1..16)`);
    }
    this.plan.push({ target, remaining: count, kind: 'fail', code: options.code, message: options.message ?? `injected fault: ${target} fails with code ${options.code}`, delayMs: 0 });
  }

  /** The next `count` calls of `target` are held for `delayMs` (scheduler time) before being served. */
  delayNext(target: FaultTarget, options: { readonly delayMs: number; readonly count?: number }): void {
    checkTarget(target);
    const count = options.count ?? 1;
    checkCount(count);
    if (!(options.delayMs >= 0 && Number.isFinite(options.delayMs))) throw new P4RuntimeError('BAD_OPTIONS', `fault delayMs ${options.delayMs} must be a finite number >= 0`);
    this.plan.push({ target, remaining: count, kind: 'delay', code: 0, message: '', delayMs: options.delayMs });
  }

  /** Ends every open StreamChannel with `code` (default UNAVAILABLE); returns how many were open. */
  closeAllStreams(options: { readonly code?: number; readonly message?: string } = {}): number {
    return this.hooks.closeAllStreams(options.code ?? GrpcStatus.UNAVAILABLE, options.message ?? 'injected fault: stream closed by the switch');
  }

  /**
   * Restarts the switch: streams close, the pipeline, forwarding state and arbitration are lost.
   * For `downForMs` afterwards every RPC answers UNAVAILABLE.
   */
  restart(options: { readonly downForMs?: number } = {}): Promise<void> {
    const down = options.downForMs ?? 0;
    if (!(down >= 0 && Number.isFinite(down))) throw new P4RuntimeError('BAD_OPTIONS', `restart downForMs ${down} must be a finite number >= 0`);
    return this.hooks.restart(down);
  }

  /**
   * The next `count` digest messages the data plane emits — after letting `after` more pass — are
   * lost before they reach a list, as a switch whose learn buffer is full drops them (the
   * controller sees nothing).
   */
  loseNextDigests(count = 1, after = 0): void {
    checkCount(count);
    if (!Number.isSafeInteger(after) || after < 0) throw new P4RuntimeError('BAD_OPTIONS', `loseNextDigests after ${after} must be an integer >= 0 (digest messages let through before the losses)`);
    this.digestsToLose += count;
    this.digestsToPass = after;
  }

  /** Whether the digest message being emitted is to be lost (consumes one planned loss). */
  takeDigestLoss(): boolean {
    if (this.digestsToLose <= 0) return false;
    if (this.digestsToPass > 0) {
      this.digestsToPass--;
      return false;
    }
    this.digestsToLose--;
    this.injected.digestsLost++;
    return true;
  }

  /** Forgets every planned fault. */
  clear(): void {
    this.plan = [];
    this.digestsToLose = 0;
    this.digestsToPass = 0;
  }

  /** Consumes the planned faults that apply to one call of `method`. */
  take(method: P4RuntimeMethod): FaultDecision {
    let delayMs = 0;
    let failure: FaultDecision['fail'] = null;
    for (const f of this.plan) {
      if (f.remaining <= 0 || (f.target !== '*' && f.target !== method)) continue;
      if (f.kind === 'delay' && delayMs === 0) {
        f.remaining--;
        delayMs = f.delayMs;
        this.injected.delayed++;
      } else if (f.kind === 'fail' && failure === null) {
        f.remaining--;
        failure = { code: f.code, message: f.message };
        this.injected.failed++;
      }
    }
    this.plan = this.plan.filter((f) => f.remaining > 0);
    return { delayMs, fail: failure };
  }
}

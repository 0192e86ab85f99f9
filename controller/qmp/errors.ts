/**
 * The one error class of the QMP boundary (our client talking to a QEMU monitor). Like the other
 * boundaries' errors, its `code` is a closed set, it keeps what it wraps as `cause`, and
 * `from(unknown)` turns anything thrown into one.
 */

/** Every failure the QMP client reports. */
export const QMP_ERROR_CODES = [
  'BAD_OPTIONS', // client options rejected at the edge
  'CONNECT_FAILED', // the socket could not be opened, or no greeting/negotiation in time
  'PROTOCOL', // the monitor sent something that is not QMP: malformed JSON, a reply we never asked for
  'COMMAND_FAILED', // QEMU answered a command with an error reply (see `qmpClass`)
  'TIMEOUT', // a command got no reply within its timeout (it may still take effect)
  'CLOSED', // the connection closed, by us or because the socket vanished
  'INTERNAL', // anything else: a bug
] as const;

export type QmpErrorCode = (typeof QMP_ERROR_CODES)[number];

export interface QmpErrorOptions {
  readonly cause?: unknown;
  /** The command the error is about, e.g. `migrate-continue`. */
  readonly command?: string;
  /** QEMU's error class from an error reply, e.g. `GenericError`, `CommandNotFound`. */
  readonly qmpClass?: string;
}

/** The error every QMP client API throws, rejects or emits with. */
export class QmpError extends Error {
  override readonly name = 'QmpError';
  readonly code: QmpErrorCode;
  readonly command: string | undefined;
  readonly qmpClass: string | undefined;

  constructor(code: QmpErrorCode, message: string, options: QmpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.command = options.command;
    this.qmpClass = options.qmpClass;
  }

  /**
   * Wraps anything thrown: passes ours through, maps socket errors (ECONNREFUSED, ENOENT, …) to
   * `CONNECT_FAILED` and everything else to `INTERNAL`, keeping the original as `cause`.
   * @example
   * try { await qmp.execute('query-status'); } catch (e) { log.warn('qmp', { code: QmpError.from(e).code }); }
   */
  static from(e: unknown, context?: string): QmpError {
    if (e instanceof QmpError) return e;
    const prefix = context ? `${context}: ` : '';
    const errno = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (typeof errno === 'string' && SOCKET_ERRNOS.has(errno)) {
      return new QmpError('CONNECT_FAILED', `${prefix}${(e as Error).message}`, { cause: e });
    }
    if (e instanceof Error) return new QmpError('INTERNAL', `${prefix}${e.message}`, { cause: e });
    return new QmpError('INTERNAL', `${prefix}${String(e)}`, { cause: e });
  }
}

const SOCKET_ERRNOS = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTSOCK', 'EADDRNOTAVAIL']);

/**
 * Structured logging: levels and fields, one JSON object per line, to an injected sink. Library
 * code takes a `Logger` in its options and never writes to the console itself.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose records all carry `fields` (e.g. `{ device: 'sw1' }`). */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where each record goes; defaults to one JSON line on stderr. */
  readonly sink?: (record: Readonly<Record<string, unknown>>) => void;
  readonly fields?: LogFields;
}

/**
 * Creates a structured logger.
 * @example
 * const log = createLogger({ level: 'info' }).child({ device: 'edge-1' });
 * log.info('pipeline pushed', { cookie: '0x1f' });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const sink = options.sink ?? ((r) => process.stderr.write(`${JSON.stringify(r, jsonSafe)}\n`));
  const base = options.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    sink({ time: new Date().toISOString(), level, msg, ...base, ...fields });
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that discards everything (the default for library objects). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * `carryover sim`: runs one simulated switch in the foreground until SIGINT or SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { P4RuntimeError, createLogger } from 'p4runtime-ts';
import type { LogLevel } from 'p4runtime-ts';
import { DEFAULT_SIM_SWITCH_OPTIONS } from './options.js';
import type { SimCredentials } from './options.js';
import { SIM_PROFILE_NAMES } from './profiles.js';
import type { SimProfileName } from './profiles.js';
import { registeredProgramNames } from './programs/registry.js';
import './programs/builtin.js';
import { startSimSwitch } from './sim-switch.js';

/** Where the command writes, and what stops it (tests pass their own). */
export interface SimCommandIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Resolves when the switch should stop; default: the first SIGINT or SIGTERM. */
  readonly stopSignal?: Promise<string>;
}

const HELP = `usage: carryover sim [options]

Starts a software P4 switch serving P4Runtime over gRPC until SIGINT/SIGTERM.

options:
  --listen HOST:PORT     address to listen on (default ${DEFAULT_SIM_SWITCH_OPTIONS.listen}; port 0 = any free port)
  --device-id N          P4Runtime device id (default ${DEFAULT_SIM_SWITCH_OPTIONS.deviceId})
  --profile NAME         ${SIM_PROFILE_NAMES.join(' | ')} (default ${DEFAULT_SIM_SWITCH_OPTIONS.profile})
  --program NAME         force the behavioural model (default: from the pushed pipeline)
  --cpu-port N           CPU port number (default 255; 320 for stratum-tofino)
  --canonical-bytestrings  refuse padded bytestrings (default: accept any length whose value fits, P4Runtime 1.4 §8.3)
  --tls-cert FILE        serve TLS with this certificate (PEM) …
  --tls-key FILE         … and key (PEM)
  --tls-ca FILE          require client certificates signed by this CA (mTLS)
  --log-level LEVEL      debug | info | warn | error (default info; logs go to stderr)
  -h, --help             this help`;

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function signals(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => (): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new P4RuntimeError('BAD_OPTIONS', `--${name} ${v}: expected a non-negative integer`);
  return Number(v);
}

/** Runs `carryover sim` with `argv` (the arguments after `sim`); resolves with the exit code once stopped. */
export async function runSimCommand(argv: string[], io: SimCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string' },
        'device-id': { type: 'string' },
        profile: { type: 'string' },
        program: { type: 'string' },
        'cpu-port': { type: 'string' },
        'canonical-bytestrings': { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`carryover sim: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return EXIT_USAGE;
  }
  if (values['help']) {
    io.stdout(HELP);
    return EXIT_OK;
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  try {
    const level = (str('log-level') ?? 'info') as LogLevel;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new P4RuntimeError('BAD_OPTIONS', `--log-level ${level}: expected debug, info, warn or error`);
    const profile = str('profile');
    if (profile !== undefined && !SIM_PROFILE_NAMES.includes(profile as SimProfileName)) {
      throw new P4RuntimeError('BAD_OPTIONS', `--profile ${profile}: expected one of ${SIM_PROFILE_NAMES.join(', ')}`);
    }
    const cert = str('tls-cert');
    const key = str('tls-key');
    const ca = str('tls-ca');
    if ((cert === undefined) !== (key === undefined)) throw new P4RuntimeError('BAD_OPTIONS', '--tls-cert and --tls-key go together: give both files, or neither for an insecure server');
    if (ca !== undefined && cert === undefined) throw new P4RuntimeError('BAD_OPTIONS', '--tls-ca (mTLS) also needs --tls-cert and --tls-key');
    const read = (flag: string, file: string): string => {
      try {
        return readFileSync(file, 'utf8');
      } catch (e) {
        throw new P4RuntimeError('BAD_OPTIONS', `--${flag} ${file}: cannot read the file (${e instanceof Error ? e.message : String(e)})`);
      }
    };
    let credentials: SimCredentials = { kind: 'insecure' };
    if (cert !== undefined && key !== undefined) {
      credentials = ca !== undefined
        ? { kind: 'mtls', caPem: read('tls-ca', ca), certPem: read('tls-cert', cert), keyPem: read('tls-key', key) }
        : { kind: 'tls', certPem: read('tls-cert', cert), keyPem: read('tls-key', key) };
    }
    const logger = createLogger({ level, fields: { component: 'sim' }, sink: (r) => io.stderr(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) });
    const sw = await startSimSwitch({
      ...(str('listen') !== undefined ? { listen: str('listen') } : {}),
      ...(str('device-id') !== undefined ? { deviceId: str('device-id') } : {}),
      ...(profile !== undefined ? { profile: profile as SimProfileName } : {}),
      ...(str('program') !== undefined ? { program: str('program') } : {}),
      ...(str('cpu-port') !== undefined ? { cpuPort: intFlag('cpu-port', str('cpu-port')) } : {}),
      ...(values['canonical-bytestrings'] === true ? { canonicalBytestrings: true } : {}),
      credentials,
      logger,
    });
    io.stdout(
      `carryover sim: listening on ${sw.address} (profile ${sw.profile.name}, device ${sw.deviceId}, cpu port ${sw.cpuPort}, ` +
        `program ${sw.options.program ?? 'from the pushed pipeline'}; built-in programs: ${registeredProgramNames().join(', ')}; ${credentials.kind})`,
    );
    const sig = await (io.stopSignal ?? signals());
    io.stdout(`carryover sim: ${sig}, stopping`);
    await sw.stop();
    return EXIT_OK;
  } catch (e) {
    const err = P4RuntimeError.from(e);
    io.stderr(`carryover sim: ${err.message}`);
    return err.code === 'BAD_OPTIONS' ? EXIT_USAGE : EXIT_FAILED;
  }
}

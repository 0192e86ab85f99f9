/**
 * Picks the register-access backend for one device by probing it: one P4Runtime RegisterEntry
 * read of one cell. A target that answers UNIMPLEMENTED (BMv2) gets the in-band backend — if the
 * program declares the in-band service, and after one in-band request proved it answers.
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { Clock, Logger, P4Switch } from 'p4runtime-ts';
import { map } from 'rxjs';
import type { MigrationContract, SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { InbandRegisterAccess } from './inband-backend.js';
import type { InbandChannel, InbandOptions } from './inband-client.js';
import { DEFAULT_P4RUNTIME_BACKEND_OPTIONS, P4RuntimeRegisterAccess } from './p4runtime-backend.js';
import { readCounterCell } from './p4runtime-cells.js';
import type { RegisterAccess } from './register-access.js';

/** How to pick the backend: probe the device, or force one. */
export type RegisterAccessMode = 'probe' | 'p4runtime' | 'inband';

const EMPTY = new Uint8Array(0);

/** The in-band channel of a P4Switch: PacketOut with metadata, PacketIn metadata back. */
export function switchInbandChannel(sw: P4Switch): InbandChannel {
  return {
    send: (metadata) => sw.packetOut(EMPTY, metadata),
    answers$: sw.packetIn$.pipe(map((p) => p.metadata)),
  };
}

/** What choosing a backend needs. */
export interface ChooseBackendInput {
  readonly sw: P4Switch;
  readonly contract: MigrationContract;
  readonly group: SlotGroupSpec;
  readonly mode: RegisterAccessMode;
  readonly inband: InbandOptions;
  readonly clock: Clock;
  readonly logger: Logger;
}

function inbandBackend(input: ChooseBackendInput, reason: string): InbandRegisterAccess {
  const { sw, contract, group } = input;
  if (!contract.inband) {
    throw new EdgePluginError(
      'REGISTER_ACCESS_UNAVAILABLE',
      `${reason}; program '${contract.program}' declares no in-band service, so slot group '${group.name}' cannot be read on this device: ` +
        `add @migrate_inband("${group.name}") to the packet_in and packet_out headers and serve the requests in the pipeline (p4/README.md "In-band state access")`,
      { annotation: '@migrate_inband' },
    );
  }
  return new InbandRegisterAccess({
    group,
    spec: contract.inband,
    channel: switchInbandChannel(sw),
    options: input.inband,
    clock: input.clock,
    logger: input.logger,
    counters: (counter, index) => readCounterCell(sw, counter, index),
    reason,
  });
}

/** The in-band service beside a P4Runtime backend, for conditional ops and the clock (none without @migrate_inband). */
function helper(input: ChooseBackendInput): InbandRegisterAccess | undefined {
  return input.contract.inband ? inbandBackend(input, 'in-band helper of the P4Runtime backend: conditional slot ops and READ_CLOCK') : undefined;
}

/**
 * Chooses and builds the backend for one device.
 * @throws EdgePluginError REGISTER_ACCESS_UNAVAILABLE when neither backend can serve the group.
 */
export async function chooseRegisterAccess(input: ChooseBackendInput): Promise<RegisterAccess> {
  const { sw, group, mode } = input;
  const first = group.words[0];
  if (!first) throw new EdgePluginError('CONTRACT_INVALID', `slot group '${group.name}' has no words`);
  if (mode === 'p4runtime') return new P4RuntimeRegisterAccess(sw, group, 'configured: registerAccess = p4runtime', DEFAULT_P4RUNTIME_BACKEND_OPTIONS, helper(input));
  if (mode === 'inband') return await verified(inbandBackend(input, 'configured: registerAccess = inband'), input);

  try {
    await sw.readAll(sw.register(first.register).at(0));
    return new P4RuntimeRegisterAccess(sw, group, `probe: a RegisterEntry read of ${first.register}[0] succeeded`, DEFAULT_P4RUNTIME_BACKEND_OPTIONS, helper(input));
  } catch (e) {
    const err = P4RuntimeError.from(e);
    if (err.code !== 'UNIMPLEMENTED') {
      throw new EdgePluginError('SWITCH', `probing register access with a RegisterEntry read of ${first.register}[0]: ${err.code}: ${err.message}`, { cause: err });
    }
    const reason = `probe: a RegisterEntry read of ${first.register}[0] answered UNIMPLEMENTED (${err.message}); using in-band access over PacketOut/PacketIn`;
    input.logger.info('register access: P4Runtime registers unavailable, using in-band', { register: first.register, message: err.message });
    return await verified(inbandBackend(input, reason), input);
  }
}

/** Sends one READ_EPOCH (or READ_SLOT 0) so a pipeline that does not answer fails now, not mid-migration. */
async function verified(backend: InbandRegisterAccess, input: ChooseBackendInput): Promise<InbandRegisterAccess> {
  try {
    if (input.group.dirty) await backend.readEpoch();
    else await backend.readSlots({ indices: [0] });
    return backend;
  } catch (e) {
    backend.close();
    const err = EdgePluginError.from(e);
    throw new EdgePluginError('REGISTER_ACCESS_UNAVAILABLE', `in-band access to slot group '${input.group.name}' does not answer: ${err.message}`, { cause: err });
  }
}

/**
 * The baseline of the in-band comparison: what a hand-written client costs. @grpc/grpc-js and
 * protobufjs only — a StreamChannel, arbitration, then READ_SLOT PacketOuts built from ready
 * protobuf objects (metadata ids looked up once), a window of requests in flight, answers decoded
 * to protobuf objects and matched by req_id in a plain array. No retries, no value decoding:
 * the floor any in-band client sits on.
 */
import * as grpc from '@grpc/grpc-js';
import type { P4Schema } from 'p4runtime-ts';
import { p4, toLong, toUint128 } from 'p4runtime-ts/proto';

/** What the bare client is asked to do. */
export interface BareInbandRun {
  readonly address: string;
  readonly deviceId: bigint;
  readonly electionId: bigint;
  readonly schema: P4Schema;
  /** READ_SLOT requests to send (slot i for request i, modulo `slots`). */
  readonly requests: number;
  readonly slots: number;
  readonly window: number;
  /** READ_SLOT's op code. */
  readonly op: number;
}

const ZERO = Uint8Array.of(0);

/** Minimal big-endian bytes of a non-negative 32-bit integer (canonical P4Runtime bytestring). */
function u32(v: number): Uint8Array {
  if (v < 0x100) return Uint8Array.of(v);
  if (v < 0x10000) return Uint8Array.of(v >>> 8, v & 0xff);
  if (v < 0x1000000) return Uint8Array.of(v >>> 16, (v >>> 8) & 0xff, v & 0xff);
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** Connects, becomes primary and returns the stream; rejects if arbitration fails. */
async function openStream(client: grpc.Client, run: BareInbandRun, onPacket: (p: p4.v1.PacketIn.$Properties) => void): Promise<grpc.ClientDuplexStream<Uint8Array, p4.v1.StreamMessageResponse>> {
  const stream = client.makeBidiStreamRequest<Uint8Array, p4.v1.StreamMessageResponse>(
    '/p4.v1.P4Runtime/StreamChannel',
    (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    (b) => p4.v1.StreamMessageResponse.decode(b),
  );
  return new Promise((resolve, reject) => {
    let primary = false;
    stream.on('data', (m: p4.v1.StreamMessageResponse) => {
      if (m.packet) onPacket(m.packet);
      else if (m.arbitration && !primary) {
        if ((m.arbitration.status?.code ?? 0) !== 0) return reject(new Error(`bare client: not primary: ${m.arbitration.status?.message ?? ''}`));
        primary = true;
        resolve(stream);
      }
    });
    stream.on('error', (e) => reject(e));
    stream.write(p4.v1.StreamMessageRequest.encode({ arbitration: { deviceId: toLong(run.deviceId), electionId: toUint128(run.electionId) } }).finish());
  });
}

/** Runs `requests` READ_SLOTs with a window; resolves when every answer is in. */
export async function runBareInband(run: BareInbandRun): Promise<void> {
  const out = run.schema.controllerHeader('packet_out');
  const inn = run.schema.controllerHeader('packet_in');
  const idOut = (n: string): number => out.metadataField(n).id;
  const reqIdIn = inn.metadataField('req_id').id;
  const opId = idOut('op');
  const reqId = idOut('req_id');
  const indexId = idOut('index');
  const zeros = out.metadata.filter((f) => !['op', 'req_id', 'index'].includes(f.name)).map((f) => f.id);
  const opBytes = u32(run.op);

  const client = new grpc.Client(run.address, grpc.credentials.createInsecure());
  const answered = new Uint8Array(run.requests);
  let sent = 0;
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));
  let stream: grpc.ClientDuplexStream<Uint8Array, p4.v1.StreamMessageResponse> | undefined;

  const send = (): void => {
    const i = sent++;
    const metadata: p4.v1.PacketMetadata.$Properties[] = [
      { metadataId: opId, value: opBytes },
      { metadataId: reqId, value: u32(i) },
      { metadataId: indexId, value: u32(i % run.slots) },
    ];
    for (const id of zeros) metadata.push({ metadataId: id, value: ZERO });
    stream?.write(p4.v1.StreamMessageRequest.encode({ packet: { payload: new Uint8Array(0), metadata } }).finish());
  };
  const onPacket = (p: p4.v1.PacketIn.$Properties): void => {
    let id = -1;
    const md = p.metadata ?? [];
    for (let k = 0; k < md.length; k++) {
      const m = md[k];
      if (m?.metadataId !== reqIdIn || !m.value) continue;
      id = 0;
      for (let j = 0; j < m.value.length; j++) id = id * 256 + (m.value[j] as number);
      break;
    }
    if (id < 0 || id >= run.requests || answered[id]) return;
    answered[id] = 1;
    done++;
    if (sent < run.requests) send();
    if (done === run.requests) finish();
  };
  try {
    stream = await openStream(client, run, onPacket);
    while (sent < Math.min(run.window, run.requests)) send();
    await finished;
  } finally {
    stream?.end();
    client.close();
  }
}

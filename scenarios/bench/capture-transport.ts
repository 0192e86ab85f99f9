/**
 * A P4Runtime transport for `bench p4rt` that can hold back encoded WriteRequests: while
 * capturing, `writeEncoded` keeps the bytes and answers at once instead of sending them, so a
 * `sw.write()` measures p4runtime-ts's building, encoding and batching without the network —
 * the side of the comparison with the bare client's protobufjs encoding. Everything else, and
 * every write while not capturing, goes to the real gRPC transport.
 */
import { GrpcTransport, parseP4SwitchOptions } from 'p4runtime-ts';
import type { P4RuntimeTransport, StreamChannelHandle, StreamHandlers } from 'p4runtime-ts';
import type { p4 } from 'p4runtime-ts/proto';

/** The real transport to `address`, with an on/off capture of encoded writes. */
export class CaptureTransport implements P4RuntimeTransport {
  private readonly inner: GrpcTransport;
  private captured: Uint8Array[] | undefined;

  constructor(address: string) {
    this.inner = new GrpcTransport(parseP4SwitchOptions({ address, deviceId: 0 }));
  }

  /** From now on, encoded writes are kept instead of sent. */
  startCapture(): void {
    this.captured = [];
  }

  /** Ends the capture; returns the WriteRequests kept since `startCapture`, in order. */
  stopCapture(): Uint8Array[] {
    const out = this.captured ?? [];
    this.captured = undefined;
    return out;
  }

  /** Sends (or, while capturing, keeps) one encoded WriteRequest. */
  writeEncoded(bytes: Uint8Array): Promise<void> {
    if (this.captured) {
      this.captured.push(bytes);
      return Promise.resolve();
    }
    return this.inner.writeEncoded(bytes);
  }

  /** Forwards to the gRPC transport. */
  capabilities(): Promise<p4.v1.CapabilitiesResponse> {
    return this.inner.capabilities();
  }

  /** Forwards to the gRPC transport (p4runtime-ts uses it only when an update is not pre-encoded). */
  write(req: p4.v1.WriteRequest.$Properties): Promise<void> {
    if (this.captured) return Promise.reject(new Error('capture transport: an unencoded write while capturing'));
    return this.inner.write(req);
  }

  /** Forwards to the gRPC transport. */
  read(req: p4.v1.ReadRequest.$Properties, signal?: AbortSignal): AsyncIterable<p4.v1.ReadResponse> {
    return this.inner.read(req, signal);
  }

  /** Forwards to the gRPC transport. */
  readEncoded(req: p4.v1.ReadRequest.$Properties, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.inner.readEncoded(req, signal);
  }

  /** Forwards to the gRPC transport. */
  setPipeline(req: p4.v1.SetForwardingPipelineConfigRequest.$Properties): Promise<void> {
    return this.inner.setPipeline(req);
  }

  /** Forwards to the gRPC transport. */
  getPipeline(req: p4.v1.GetForwardingPipelineConfigRequest.$Properties): Promise<p4.v1.GetForwardingPipelineConfigResponse> {
    return this.inner.getPipeline(req);
  }

  /** Forwards to the gRPC transport. */
  openStream(handlers: StreamHandlers): StreamChannelHandle {
    return this.inner.openStream(handlers);
  }

  /** Closes the gRPC channel. */
  close(): void {
    this.inner.close();
  }
}

/**
 * The four unary P4Runtime RPCs written once over a transport's `unary` call, so each transport
 * only says how one unary call travels.
 */
import type { p4 } from '../proto/index.js';
import { P4RUNTIME_SERVICE } from './service.js';

/** A unary method as the transports call it: its path and its (de)serializers. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (r: Req) => Buffer;
  readonly responseDeserialize: (b: Buffer) => Res;
}

/** Capabilities, Write, SetForwardingPipelineConfig and GetForwardingPipelineConfig over `unary`. */
export abstract class UnaryP4RuntimeMethods {
  /** One unary call: the request serialized, the single response deserialized. */
  protected abstract unary<Req, Res>(m: UnaryMethod<Req, Res>, req: Req): Promise<Res>;

  /** Asks the target for its P4Runtime API version. */
  capabilities(): Promise<p4.v1.CapabilitiesResponse> {
    return this.unary(P4RUNTIME_SERVICE.Capabilities, {}) as Promise<p4.v1.CapabilitiesResponse>;
  }

  /** Sends one WriteRequest. */
  async write(req: p4.v1.WriteRequest.$Properties): Promise<void> {
    await this.unary(P4RUNTIME_SERVICE.Write, req);
  }

  /** Sends a SetForwardingPipelineConfig. */
  async setPipeline(req: p4.v1.SetForwardingPipelineConfigRequest.$Properties): Promise<void> {
    await this.unary(P4RUNTIME_SERVICE.SetForwardingPipelineConfig, req);
  }

  /** Sends a GetForwardingPipelineConfig. */
  getPipeline(req: p4.v1.GetForwardingPipelineConfigRequest.$Properties): Promise<p4.v1.GetForwardingPipelineConfigResponse> {
    return this.unary(P4RUNTIME_SERVICE.GetForwardingPipelineConfig, req) as Promise<p4.v1.GetForwardingPipelineConfigResponse>;
  }
}

/**
 * Binds the device to grpc-js handlers: every call first passes fault injection and the restart
 * window, then malformed requests get INVALID_ARGUMENT naming the message, then the RPC runs.
 * No handler ever throws into grpc-js: unexpected errors become INTERNAL with the reason.
 */
import type {
  ServerDuplexStream,
  ServerErrorResponse,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import type { p4 } from 'p4runtime-ts/proto';
import type { SimFaults } from '../faults.js';
import { GrpcStatus, rpcError, toRpcError } from '../p4rt/status.js';
import type { Decoded, P4RuntimeMethod } from '../p4rt/service-definition.js';
import { handleGetPipeline, handleSetPipeline } from './pipeline-rpc.js';
import { handleRead } from './read-rpc.js';
import type { SimDevice } from './sim-device.js';
import { StreamSession } from './stream-session.js';
import { handleWrite } from './write-rpc.js';

/** Answers a call early when a fault or the restart window says so. */
async function gate(dev: SimDevice, faults: SimFaults, method: P4RuntimeMethod): Promise<ServerErrorResponse | null> {
  const f = faults.take(method);
  if (f.delayMs > 0) await dev.scheduler.sleep(f.delayMs);
  if (f.fail) return rpcError(f.fail.code, f.fail.message);
  if (dev.scheduler.now() < dev.downUntil) return rpcError(GrpcStatus.UNAVAILABLE, 'switch is restarting; retry shortly');
  return null;
}

function malformed<T>(d: Decoded<T>): ServerErrorResponse | null {
  return d.ok ? null : rpcError(GrpcStatus.INVALID_ARGUMENT, `${d.error}; the request could not be decoded as protobuf`);
}

function unary<Req, Res>(
  dev: SimDevice,
  faults: SimFaults,
  method: P4RuntimeMethod,
  run: (req: Req) => { error: ServerErrorResponse } | { response: Res },
): (call: ServerUnaryCall<Decoded<Req>, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    void (async () => {
      try {
        const early = (await gate(dev, faults, method)) ?? malformed(call.request);
        if (early) return callback(early);
        if (!call.request.ok) return;
        const out = run(call.request.value);
        if ('error' in out) callback(out.error);
        else callback(null, out.response);
      } catch (e) {
        dev.logger.error('rpc failed unexpectedly', { method, error: e instanceof Error ? e.stack : String(e) });
        callback(toRpcError(e));
      }
    })();
  };
}

/** The service implementation for `P4RUNTIME_SERVICE`. */
export function p4runtimeImplementation(dev: SimDevice, faults: SimFaults): UntypedServiceImplementation {
  return {
    Capabilities: unary<p4.v1.CapabilitiesRequest, p4.v1.CapabilitiesResponse.$Properties>(dev, faults, 'Capabilities', () => ({
      response: { p4runtimeApiVersion: dev.profile.apiVersion },
    })),
    Write: unary<p4.v1.WriteRequest, p4.v1.WriteResponse.$Properties>(dev, faults, 'Write', (req) => {
      const error = handleWrite(dev, req);
      return error ? { error } : { response: {} };
    }),
    SetForwardingPipelineConfig: unary<p4.v1.SetForwardingPipelineConfigRequest, p4.v1.SetForwardingPipelineConfigResponse.$Properties>(
      dev, faults, 'SetForwardingPipelineConfig',
      (req) => {
        const error = handleSetPipeline(dev, req);
        return error ? { error } : { response: {} };
      },
    ),
    GetForwardingPipelineConfig: unary<p4.v1.GetForwardingPipelineConfigRequest, p4.v1.GetForwardingPipelineConfigResponse.$Properties>(
      dev, faults, 'GetForwardingPipelineConfig',
      (req) => handleGetPipeline(dev, req),
    ),
    Read: (call: ServerWritableStream<Decoded<p4.v1.ReadRequest>, p4.v1.ReadResponse.$Properties>) => {
      void (async () => {
        const finish = (err: ServerErrorResponse | null): void => {
          if (err) call.emit('error', { code: err.code, details: err.details, metadata: err.metadata });
          else call.end();
        };
        try {
          const early = (await gate(dev, faults, 'Read')) ?? malformed(call.request);
          if (early || !call.request.ok) return finish(early);
          const send = (r: p4.v1.ReadResponse.$Properties): Promise<void> =>
            new Promise((resolve) => {
              if (call.write(r)) resolve();
              else call.once('drain', () => resolve());
            });
          finish(await handleRead(dev, call.request.value, send));
        } catch (e) {
          dev.logger.error('rpc failed unexpectedly', { method: 'Read', error: e instanceof Error ? e.stack : String(e) });
          finish(toRpcError(e));
        }
      })();
    },
    StreamChannel: (call: ServerDuplexStream<Decoded<p4.v1.StreamMessageRequest>, p4.v1.StreamMessageResponse.$Properties>) => {
      // Register the session before any await so no message is missed, then apply faults.
      const session = new StreamSession(dev, call);
      void (async () => {
        const early = await gate(dev, faults, 'StreamChannel');
        if (early) session.close(early.code ?? GrpcStatus.UNKNOWN, early.details ?? 'injected fault');
      })();
    },
  };
}

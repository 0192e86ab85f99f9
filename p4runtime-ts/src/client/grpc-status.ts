/**
 * The end of a gRPC call read from HTTP/2 headers and trailers (grpc/PROTOCOL-HTTP2.md: Status,
 * Status-Message percent-encoded, `grpc-status-details-bin` base64; "Trailers-Only" responses carry
 * them in the headers; a non-200 :status maps per doc/http-grpc-status-mapping.md). Pure code, and
 * the error a failed call rejects with: the shape grpc-js gives (`code`, `details`, `metadata`), so
 * `P4RuntimeError.from` and the Write error decoding read both transports the same way.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { grpcCodeName } from '../errors.js';
import type { TransportStatus } from './transport.js';

/** Numeric codes used here. */
export const Code = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16, PERMISSION_DENIED: 7 } as const;

/** Response metadata as the transport exposes it: `get(key)` like grpc-js' Metadata (binary keys as Buffers). */
export class ResponseMetadata {
  private readonly map = new Map<string, Array<string | Buffer>>();

  /** Adds the custom entries of one header block (pseudo-headers and HTTP/2 framing ones left out). */
  addHeaders(h: IncomingHttpHeaders): void {
    for (const [key, value] of Object.entries(h)) {
      if (key.startsWith(':') || value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      // Binary headers may repeat, and a repeated one may come comma-joined (PROTOCOL-HTTP2.md).
      const out = key.endsWith('-bin') ? values.flatMap((v) => v.split(',')).map((v) => Buffer.from(v.trim(), 'base64')) : values;
      this.map.set(key, [...(this.map.get(key) ?? []), ...out]);
    }
  }

  /** The values of `key`, `[]` when absent. */
  get(key: string): Array<string | Buffer> {
    return this.map.get(key.toLowerCase()) ?? [];
  }
}

/** A call that ended with a non-OK status; its fields are what grpc-js' ServiceError has. */
export class TransportCallError extends Error implements TransportStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata: { get(key: string): Array<string | Buffer> };

  constructor(status: TransportStatus, method?: string) {
    super(`${status.code} ${grpcCodeName(status.code)}: ${status.details}${method ? ` (${method})` : ''}`);
    this.name = 'TransportCallError';
    this.code = status.code;
    this.details = status.details;
    this.metadata = status.metadata ?? new ResponseMetadata();
  }
}

/** Decodes a `grpc-message` value (percent-encoded UTF-8); a malformed escape is kept as written. */
export function decodeGrpcMessage(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The gRPC code for a non-200 HTTP status (doc/http-grpc-status-mapping.md). */
export function codeForHttpStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}

/** What the response headers say before any trailer: a failure of the HTTP exchange itself, or undefined when it looks like gRPC. */
export function checkResponseHeaders(h: Readonly<Record<string, unknown>>): TransportStatus | undefined {
  const status = Number(h[':status'] ?? 0);
  if (status !== 200) return { code: codeForHttpStatus(status), details: `the server answered HTTP ${status} instead of 200 (is the address a gRPC server?)` };
  const type = String(h['content-type'] ?? '');
  if (!type.startsWith('application/grpc')) return { code: Code.UNKNOWN, details: `the server answered content-type '${type}', not application/grpc (is the address a gRPC server?)` };
  return undefined;
}

/** The call's status from the block that carries `grpc-status` (trailers, or headers in a Trailers-Only response). */
export function statusFromTrailers(t: IncomingHttpHeaders, metadata: ResponseMetadata): TransportStatus {
  const raw = t['grpc-status'];
  const code = raw === undefined ? NaN : Number(raw);
  if (!Number.isInteger(code) || code < 0) {
    return { code: Code.UNKNOWN, details: raw === undefined ? 'the server ended the call without a grpc-status' : `the server sent an invalid grpc-status '${String(raw)}'`, metadata };
  }
  const message = t['grpc-message'];
  return { code, details: decodeGrpcMessage(typeof message === 'string' ? message : ''), metadata };
}

/** The `grpc-timeout` header for a deadline `ms` from now (at most 8 digits, in milliseconds or coarser). */
export function grpcTimeoutHeader(ms: number): string {
  const m = Math.max(1, Math.ceil(ms));
  if (m < 1e8) return `${m}m`;
  const s = Math.ceil(m / 1000);
  return s < 1e8 ? `${s}S` : `${Math.min(99_999_999, Math.ceil(s / 3600))}H`;
}

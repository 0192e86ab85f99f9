import { describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { ResponseMetadata, TransportCallError, checkResponseHeaders, codeForHttpStatus, decodeGrpcMessage, grpcTimeoutHeader, statusFromTrailers } from './grpc-status.js';

describe('grpc-status', () => {
  it('grpc-status — the status and its percent-encoded message come from the trailers', () => {
    const md = new ResponseMetadata();
    const s = statusFromTrailers({ 'grpc-status': '9', 'grpc-message': 'not%20primary%3A%20100%25' }, md);
    expect(s.code).toBe(9);
    expect(s.details).toBe('not primary: 100%');
    expect(decodeGrpcMessage('bad %E0%A4%A escape')).toBe('bad %E0%A4%A escape');
  });

  it('grpc-status — a missing or invalid grpc-status is UNKNOWN and says which', () => {
    const md = new ResponseMetadata();
    expect(statusFromTrailers({}, md)).toMatchObject({ code: 2, details: expect.stringContaining('without a grpc-status') });
    expect(statusFromTrailers({ 'grpc-status': 'x' }, md)).toMatchObject({ code: 2, details: expect.stringContaining("invalid grpc-status 'x'") });
  });

  it('grpc-status — binary metadata is base64-decoded, repeated values kept, pseudo-headers left out', () => {
    const md = new ResponseMetadata();
    md.addHeaders({ ':status': '200', 'grpc-status-details-bin': Buffer.from([1, 2, 3]).toString('base64'), 'x-a': ['1', '2'] });
    md.addHeaders({ 'x-a': '3' });
    expect(md.get('grpc-status-details-bin')).toEqual([Buffer.from([1, 2, 3])]);
    expect(md.get('X-A')).toEqual(['1', '2', '3']);
    expect(md.get(':status')).toEqual([]);
  });

  it('grpc-status — HTTP statuses map as gRPC documents; a non-gRPC answer is named', () => {
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500].map(codeForHttpStatus)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2]);
    expect(checkResponseHeaders({ ':status': 200, 'content-type': 'application/grpc+proto' })).toBeUndefined();
    expect(checkResponseHeaders({ ':status': 404 })).toMatchObject({ code: 12, details: expect.stringContaining('HTTP 404') });
    expect(checkResponseHeaders({ ':status': 200, 'content-type': 'text/html' })).toMatchObject({ code: 2, details: expect.stringContaining('text/html') });
  });

  it('grpc-status — the timeout header stays within eight digits', () => {
    expect(grpcTimeoutHeader(0.2)).toBe('1m');
    expect(grpcTimeoutHeader(60_000)).toBe('60000m');
    expect(grpcTimeoutHeader(1e9)).toBe('1000000S');
    expect(grpcTimeoutHeader(1e15)).toBe('99999999H');
  });

  it('grpc-status — a failed call reads as a P4RuntimeError like a grpc-js ServiceError', () => {
    const e = new TransportCallError({ code: 14, details: '127.0.0.1:1: connect ECONNREFUSED' }, '/p4.v1.P4Runtime/Write');
    expect(e.message).toBe('14 UNAVAILABLE: 127.0.0.1:1: connect ECONNREFUSED (/p4.v1.P4Runtime/Write)');
    const p = P4RuntimeError.from(e, 'write');
    expect(p.code).toBe('UNAVAILABLE');
    expect(p.grpcCode).toBe(14);
    expect(p.message).toBe('write: 127.0.0.1:1: connect ECONNREFUSED');
  });
});

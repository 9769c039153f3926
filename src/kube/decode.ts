import https from 'node:https';
import { type Upstream, upstreamRequestOptions } from '../upstream.js';
import type { KubeRequest } from './request.js';
import { StatusError, type StatusReason } from './status.js';

/** Binary encodings recent kubectl sends for built-in types (create of Namespaces, Secrets, RBAC, reviews…). */
export const BINARY_TYPES = new Set(['application/vnd.kubernetes.protobuf', 'application/cbor']);

/**
 * Reads a binary (protobuf/CBOR) body the only way that is guaranteed to agree
 * with the apiserver's own decoder: a server-side dry run of the very same bytes,
 * with the caller's credentials, answered in JSON. Nothing is persisted; if the
 * dry run fails, its Status is the caller's answer and nothing is forwarded.
 */
export function decodeViaDryRun(
  upstream: Upstream,
  credentials: Record<string, string | string[]>,
  kr: KubeRequest,
  body: Buffer,
  contentTypeHeader: string,
  auditId: string,
): Promise<Record<string, unknown>> {
  const params = new URLSearchParams(kr.search);
  params.set('dryRun', 'All');
  const headers: Record<string, string | string[]> = {
    accept: 'application/json',
    'content-type': contentTypeHeader,
    'content-length': String(body.length),
    'audit-id': auditId,
    ...credentials,
  };
  return new Promise((resolve, reject) => {
    const up = https.request(
      {
        ...upstreamRequestOptions(upstream),
        method: kr.method,
        path: `${kr.path}?${params.toString()}`,
        headers,
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            parsed = undefined;
          }
          const code = res.statusCode ?? 502;
          if (code >= 200 && code < 300 && parsed) return resolve(parsed);
          const status = parsed?.kind === 'Status' ? parsed : undefined;
          reject(
            new StatusError(
              code >= 400 ? code : 502,
              ((status?.reason as StatusReason | undefined) ?? 'BadRequest') as StatusReason,
              (status?.message as string | undefined) ??
                `the API server could not decode the ${kr.contentType} body (HTTP ${code})`,
            ),
          );
        });
      },
    );
    up.on('timeout', () => up.destroy(new Error('decode dry run timed out')));
    up.on('error', (err) =>
      reject(
        new StatusError(
          503,
          'ServiceUnavailable',
          `cannot reach the API server to read the request body: ${err.message}`,
        ),
      ),
    );
    up.end(body);
  });
}

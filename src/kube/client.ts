import https from 'node:https';
import { type Upstream, upstreamRequestOptions } from '../upstream.js';
import { jsonOrText } from '../wire/json-or-text.js';

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface KubeCallOptions {
  method?: string;
  path: string;
  /** Raw `Authorization` header value to send (the caller's own credentials). */
  authorization?: string | undefined;
  headers?: Record<string, string | string[]>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  /** Sent as repeated Impersonate-Group headers (kubegate's own calls only). */
  impersonateGroups?: string[];
}

/**
 * A small JSON call to the upstream API server, used by kubegate itself (identity
 * reviews, live-object fetches, set-up). Proxied traffic never goes through here.
 */
export function kubeCall<T = unknown>(upstream: Upstream, opts: KubeCallOptions): Promise<KubeResponse<T>> {
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | string[]> = { accept: 'application/json', ...opts.headers };
  if (opts.impersonateGroups?.length) headers['impersonate-group'] = opts.impersonateGroups;
  if (opts.authorization) headers.authorization = opts.authorization;
  if (payload) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        ...upstreamRequestOptions(upstream),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = jsonOrText(Buffer.concat(chunks).toString('utf8'));
          resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`upstream call ${opts.path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

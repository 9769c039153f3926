import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { jsonOrText } from '../wire/json-or-text.js';

/** What the requester's side of kubegate's API answers (a Status on failure). */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export class KubegateCallError extends Error {
  override readonly name = 'KubegateCallError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Calls kubegate's API as the requester, with the credentials of the kubeconfig that points at
 * kubegate (token, client certificate or exec plugin: whatever kubectl would send).
 */
export class RequesterClient {
  private constructor(
    private readonly kc: KubeConfig,
    private readonly server: URL,
  ) {}

  static fromKubeconfig(file?: string, context?: string): RequesterClient {
    const kc = new KubeConfig();
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
    if (context) kc.setCurrentContext(context);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster: point it at kubegate');
    return new RequesterClient(kc, new URL(cluster.server));
  }

  /** The cluster's server URL with `path` appended (a server URL may carry a path prefix). */
  private url(path: string): URL {
    const base = this.server.pathname.replace(/\/$/, '');
    return new URL(`${base}${path}`, this.server);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const url = this.url(path);
    const opts: https.RequestOptions = {
      method,
      host: url.hostname,
      port: url.port || 443,
      path: url.pathname + url.search,
      headers: { accept: 'application/json' },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload)
      Object.assign(opts.headers!, { 'content-type': 'application/json', 'content-length': payload.length });
    return new Promise((resolve, reject) => {
      const req = https.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const parsed = jsonOrText(Buffer.concat(chunks).toString('utf8'));
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.setTimeout(60_000, () =>
        req.destroy(new Error(`kubegate did not answer ${method} ${path} within 60s`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The answer's body when 2xx, else a KubegateCallError with kubegate's message. */
  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status >= 200 && r.status < 300) return r.body;
    const msg = (r.body as { message?: unknown } | null)?.message;
    throw new KubegateCallError(typeof msg === 'string' ? msg : `HTTP ${r.status}`, r.status);
  }
}

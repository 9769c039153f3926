import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Upstream } from '../upstream.js';

export interface NewsWatchOptions {
  upstream: Upstream;
  /** The ConfigMaps collection, e.g. /api/v1/namespaces/kubegate/configmaps. */
  base: string;
  labelSelector: string;
  /** The label whose value is the news key (the fingerprint's label hash). */
  keyLabel: string;
  authorization: () => string;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { code?: number; metadata?: { resourceVersion?: string; labels?: Record<string, string> } };
}

/** The apiserver ends a watch after this; it is then resumed from the last version seen (one call). */
const WATCH_SECONDS = 300;

/**
 * One watch on the store's ConfigMaps for every held request of this replica: a change to a
 * pending request or an approval, by any replica, names its fingerprint's label. It resumes from
 * the last resourceVersion seen; only when that is gone (410) or at the start does it list (one
 * metadata-only page) and announce '*' (changes may have been missed). Failures back off.
 */
export function watchConfigMaps(o: NewsWatchOptions, onNews: (key: string) => void): () => void {
  let stopped = false;
  let current: { destroy(): void } | undefined;
  void (async () => {
    let rv: string | undefined;
    for (let failures = 0; !stopped; ) {
      try {
        if (!rv) {
          rv = await currentVersion(o);
          onNews('*');
        }
        rv = await watchOnce(o, rv, onNews, (req) => {
          current = req;
        });
        failures = 0;
      } catch (err) {
        if ((err as { gone?: boolean }).gone) rv = undefined;
        failures++;
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)), undefined, { ref: false });
      }
    }
  })();
  return () => {
    stopped = true;
    current?.destroy();
  };
}

/** The collection's resourceVersion now (a one-item metadata list). */
function currentVersion(o: NewsWatchOptions): Promise<string> {
  const q = new URLSearchParams({ labelSelector: o.labelSelector, limit: '1' });
  return new Promise((resolve, reject) => {
    const req = https.request(requestOptions(o, `${o.base}?${q}`), (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`listing the store: HTTP ${res.statusCode}`));
        try {
          const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            metadata?: { resourceVersion?: string };
          };
          const v = list.metadata?.resourceVersion;
          if (v) resolve(v);
          else reject(new Error('the store list has no resourceVersion'));
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('listing the store timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** One watch from `rv` until the apiserver ends it; resolves with the last version seen. */
function watchOnce(
  o: NewsWatchOptions,
  rv: string,
  onNews: (key: string) => void,
  started: (req: { destroy(): void }) => void,
): Promise<string> {
  const q = new URLSearchParams({
    labelSelector: o.labelSelector,
    watch: '1',
    resourceVersion: rv,
    allowWatchBookmarks: 'true',
    timeoutSeconds: String(WATCH_SECONDS),
  });
  let last = rv;
  return new Promise((resolve, reject) => {
    const req = https.request(requestOptions(o, `${o.base}?${q}`), (res) => {
      if (res.statusCode === 410) return reject(Object.assign(new Error('gone'), { gone: true }));
      if (res.statusCode !== 200) return reject(new Error(`watching the store: HTTP ${res.statusCode}`));
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let ev: WatchEvent;
          try {
            ev = JSON.parse(line) as WatchEvent;
          } catch (err) {
            req.destroy();
            return reject(err);
          }
          if (ev.type === 'ERROR') {
            req.destroy();
            return reject(
              Object.assign(new Error(`watch error ${ev.object.code}`), { gone: ev.object.code === 410 }),
            );
          }
          last = ev.object.metadata?.resourceVersion ?? last;
          const key = ev.object.metadata?.labels?.[o.keyLabel];
          if (ev.type !== 'BOOKMARK' && key) onNews(key);
        }
      });
      res.on('end', () => resolve(last));
      res.on('error', reject);
    });
    req.on('error', reject);
    started(req);
    req.end();
  });
}

function requestOptions(o: NewsWatchOptions, path: string): https.RequestOptions {
  return {
    host: o.upstream.url.hostname,
    port: o.upstream.url.port || 443,
    path,
    headers: { accept: 'application/json', authorization: o.authorization() },
    agent: o.upstream.agent,
  };
}

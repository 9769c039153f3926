/**
 * Helpers for the end-to-end security suite: raw HTTPS and raw TLS bytes to kubegate,
 * admin checks straight to the apiserver, audit lookups, and approval tokens signed
 * (well or badly) with `jose`.
 *
 * The suite runs against the shared `kubegate dev` started by test/e2e/global-setup.ts
 * (KG_E2E_DIR). To run it alone against another instance, start
 * `node dist/cli/kubegate.js dev --dir /tmp/sec --port 0 --set execution.hold_seconds=3`
 * and set KG_E2E_DIR=/tmp/sec with test/security/vitest.standalone.config.ts.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { importJWK, type JWK, SignJWT } from 'jose';
import YAML from 'yaml';
import { auditRecords, devEnv, dir } from '../e2e/helpers.js';

export { auditRecords, devEnv, dir };

export type Who = 'agent' | 'alice' | 'bob' | 'admin';

/** Bearer tokens of the dev users, from the kubeconfigs `kubegate dev` wrote. */
export function tokenOf(who: Who): string {
  const file = who === 'agent' ? 'kubeconfig' : who === 'admin' ? 'admin.kubeconfig' : `${who}.kubeconfig`;
  const m = /token: (\S+)/.exec(readFileSync(path.join(dir, file), 'utf8'));
  if (!m) throw new Error(`no token in ${file}`);
  return m[1]!;
}

/** The upstream apiserver URL + CA (from admin.kubeconfig). */
function upstreamTarget(): { url: URL; ca: Buffer } {
  const kc = YAML.parse(readFileSync(path.join(dir, 'admin.kubeconfig'), 'utf8')) as {
    clusters: {
      cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string };
    }[];
  };
  const c = kc.clusters[0]!.cluster;
  const ca = c['certificate-authority-data']
    ? Buffer.from(c['certificate-authority-data'], 'base64')
    : readFileSync(path.resolve(dir, c['certificate-authority']!));
  return { url: new URL(c.server), ca };
}

function gateTarget(): { url: URL; ca: Buffer } {
  const env = devEnv();
  return { url: new URL(env.KUBEGATE_URL!), ca: readFileSync(env.KUBEGATE_CA!) };
}

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The parsed JSON body, or undefined. */
  json: any;
  /** True when the client gave up (timeoutMs) before an answer. */
  timedOut: boolean;
}

export interface ReqOpts {
  method?: string;
  /** `null` sends no Authorization header at all. */
  as?: Who | null;
  token?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | object;
  contentType?: string;
  timeoutMs?: number;
  /** A TLS client certificate (PEM) to present. */
  cert?: { cert: Buffer; key: Buffer };
}

function doRequest(target: { url: URL; ca: Buffer }, p: string, o: ReqOpts): Promise<Resp> {
  const headers: Record<string, string | string[]> = { accept: 'application/json', ...(o.headers ?? {}) };
  const as = o.as === undefined ? 'agent' : o.as;
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  else if (as !== null) headers.authorization = `Bearer ${tokenOf(as)}`;
  let payload: Buffer | undefined;
  if (o.body !== undefined) {
    payload = Buffer.isBuffer(o.body)
      ? o.body
      : Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
    headers['content-type'] = o.contentType ?? 'application/json';
    headers['content-length'] = String(payload.length);
  } else if (o.contentType) headers['content-type'] = o.contentType;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: target.url.hostname,
        port: target.url.port,
        path: p,
        method: o.method ?? 'GET',
        ca: target.ca,
        ...(o.cert ? { cert: o.cert.cert, key: o.cert.key } : {}),
        headers,
        agent: false,
        // as client-go (Go reads answer heads up to 10 MB; Node stops at 16 KiB)
        maxHeaderSize: 1 << 20,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, timedOut: false });
        });
        res.on('error', reject);
      },
    );
    if (o.timeoutMs)
      req.setTimeout(o.timeoutMs, () => {
        req.destroy();
        resolve({ status: 0, headers: {}, body: '', json: undefined, timedOut: true });
      });
    req.on('error', (err) => {
      if (!req.destroyed || !o.timeoutMs) reject(err);
    });
    req.end(payload);
  });
}

/** The change most attacks here try to sneak through: a merge patch of a victim ConfigMap. */
export const pwnedPatch = {
  method: 'PATCH',
  body: { data: { a: 'pwned' } },
  contentType: 'application/merge-patch+json',
};

/** A request to kubegate (default: as the agent, who is cluster-admin upstream). */
export function gate(p: string, o: ReqOpts = {}): Promise<Resp> {
  return doRequest(gateTarget(), p, o);
}

/** A request straight to the apiserver (default: as admin): set-up and checks. */
export function direct(p: string, o: ReqOpts = {}): Promise<Resp> {
  return doRequest(upstreamTarget(), p, { as: 'admin', ...o });
}

/** Raw bytes over TLS to kubegate; resolves with everything received until close or `waitMs`. */
export function rawTls(bytes: string | Buffer | (string | Buffer)[], waitMs = 3000): Promise<string> {
  const t = gateTarget();
  return new Promise((resolve) => {
    let out = '';
    const s = tls.connect(
      { host: t.url.hostname, port: Number(t.url.port), ca: t.ca, servername: 'localhost' },
      () => {
        for (const b of Array.isArray(bytes) ? bytes : [bytes]) s.write(b);
      },
    );
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, waitMs);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => undefined);
  });
}

/** Opens a TLS socket to kubegate for hand-driven tests (slowloris). */
export function openTls(): Promise<tls.TLSSocket> {
  const t = gateTarget();
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: t.url.hostname, port: Number(t.url.port), ca: t.ca, servername: 'localhost' },
      () => resolve(s),
    );
    s.once('error', reject);
  });
}

/** Status code of the first HTTP response in raw bytes (0 when none). */
export function rawStatus(raw: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

let counter = 0;
/** A fresh namespace made by the admin, straight to the apiserver. */
export async function ns(prefix: string): Promise<string> {
  const name = `sec-${prefix}-${process.pid}-${++counter}`.slice(0, 63).replace(/-+$/, '');
  const r = await direct('/api/v1/namespaces', {
    method: 'POST',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  if (r.status !== 201) throw new Error(`create namespace ${name}: ${r.status} ${r.body}`);
  return name;
}

/** Creates an object as admin (straight to the apiserver) and returns it. */
export async function adminCreate(collectionPath: string, obj: object): Promise<any> {
  const r = await direct(collectionPath, { method: 'POST', body: obj });
  if (r.status !== 201) throw new Error(`create in ${collectionPath}: ${r.status} ${r.body}`);
  return r.json;
}

export async function configMap(namespace: string, name: string, data: Record<string, string> = { a: '1' }) {
  return adminCreate(`/api/v1/namespaces/${namespace}/configmaps`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data,
  });
}

/** A Pod that never runs (no scheduler, no kubelet here): a target for eviction, binding, exec. */
export async function pod(namespace: string, name: string): Promise<any> {
  return adminCreate(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    // no scheduler takes it, so it stays unscheduled and unchanged: a static target for the gate
    spec: { schedulerName: 'kubegate-test-none', containers: [{ name: 'c', image: 'busybox' }] },
  });
}

export async function deployment(namespace: string, name: string, replicas = 1): Promise<any> {
  return adminCreate(`/apis/apps/v1/namespaces/${namespace}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  });
}

/** The object as the apiserver has it now (admin, direct); null when absent. */
export async function live(p: string): Promise<any> {
  const r = await direct(p);
  if (r.status === 404) return null;
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.body}`);
  return r.json;
}

/** Asserts-friendly: the object's resourceVersion now (undefined when absent). */
export async function rv(p: string): Promise<string | undefined> {
  return (await live(p))?.metadata?.resourceVersion;
}

/** Audit records whose `resource` or `action` mentions `needle`, optionally of one event. */
export function auditFor(needle: string, event?: string): Record<string, any>[] {
  return auditRecords().filter(
    (r) =>
      (String(r.resource ?? '').includes(needle) || String(r.action ?? '').includes(needle)) &&
      (!event || r.event === event),
  );
}

/** Waits for an audit record matching `pred`. */
export async function waitAudit(
  pred: (r: Record<string, any>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, any>> {
  const t0 = Date.now();
  for (;;) {
    const hit = auditRecords().find(pred);
    if (hit) return hit;
    if (Date.now() - t0 > timeoutMs) throw new Error('no matching audit record');
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hold window of the running kubegate (execution.hold_seconds, default 30). */
export function holdSeconds(): number {
  const cfg = YAML.parse(readFileSync(path.join(dir, 'kubegate.yaml'), 'utf8')) as {
    execution?: { hold_seconds?: number };
  };
  return cfg.execution?.hold_seconds ?? 30;
}

// ---------- approval tokens ----------

export interface KeyFile extends JWK {
  kid: string;
  name: string;
}

export function approverKey(who: 'alice' | 'bob'): KeyFile {
  return JSON.parse(readFileSync(path.join(dir, 'keys', `${who}.jwk`), 'utf8')) as KeyFile;
}

export function clusterName(): string {
  return devEnv().KUBEGATE_CLUSTER ?? 'kubegate';
}

export interface TokenOpts {
  action?: string;
  fingerprints?: string[];
  requestIds?: string[];
  override?: boolean;
  reason?: string;
  aud?: string;
  iss?: string;
  sub?: string;
  kid?: string;
  /** seconds relative to now */
  iat?: number;
  exp?: number;
  nbf?: number;
  jti?: string;
  extra?: Record<string, unknown>;
}

/** Signs an approval token with an approver's real key, with every claim overridable. */
export async function signToken(who: 'alice' | 'bob', o: TokenOpts = {}, key?: JWK): Promise<string> {
  const k = approverKey(who);
  const priv = await importJWK((key ?? k) as JWK, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    kubegate: {
      action: o.action ?? 'approve',
      ...(o.fingerprints ? { fingerprints: o.fingerprints } : {}),
      ...(o.requestIds ? { requestIds: o.requestIds } : {}),
      ...(o.override !== undefined ? { override: o.override } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(o.extra ?? {}),
    },
    iss: o.iss ?? 'approve-cli',
    aud: o.aud ?? clusterName(),
    sub: o.sub ?? k.name,
    iat: now + (o.iat ?? 0),
    exp: now + (o.exp ?? 300),
    jti: o.jti ?? randomUUID(),
  };
  if (o.nbf !== undefined) claims.nbf = now + o.nbf;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: o.kid ?? k.kid, typ: 'kubegate-approval+jwt' })
    .sign(priv);
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT', ...header })}.${b64(claims)}.`;
}

/** Posts an action token to kubegate's approval API. */
export function postApproval(token: string, p = '/kubegate/v1/approvals'): Promise<Resp> {
  return gate(p, { method: 'POST', as: null, body: { token } });
}

/** The pending requests as kubegate's API lists them (read token signed by alice). */
export async function pendingList(): Promise<any[]> {
  const tok = await signToken('alice', { action: 'read', exp: 60 });
  const r = await gate('/kubegate/v1/requests', { as: null, token: tok });
  if (r.status !== 200) throw new Error(`list requests: ${r.status} ${r.body}`);
  return r.json.items;
}

/** The newest pending request for `target` ("ns/resource/name"), waiting for it to appear. */
export async function waitPending(target: string, timeoutMs = 15_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const hit = (await pendingList()).filter((p) => p.target === target && p.status === 'pending').pop();
    if (hit) return hit;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no pending request for ${target}`);
    await sleep(150);
  }
}

// ---------- minimal protobuf encoder (the k8s envelope) ----------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** One length-delimited field. */
export function pbField(num: number, value: Buffer | string): Buffer {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return Buffer.concat([varint((num << 3) | 2), varint(b.length), b]);
}

/** One varint field. */
export function pbVarint(num: number, value: number): Buffer {
  return Buffer.concat([varint(num << 3), varint(value)]);
}

/** ObjectMeta{name, namespace}. */
export function pbMeta(name: string, namespace?: string): Buffer {
  return Buffer.concat([pbField(1, name), ...(namespace ? [pbField(3, namespace)] : [])]);
}

/** The `k8s\0` envelope around an object's protobuf bytes. */
export function pbEnvelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([pbField(1, apiVersion), pbField(2, kind)]);
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), pbField(1, typeMeta), pbField(2, raw)]);
}

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

// ---------- audit helpers ----------

/** The highest audit `seq` so far (records after it belong to what a test does next). */
export function lastSeq(): number {
  let max = 0;
  for (const r of auditRecords()) if (typeof r.seq === 'number' && r.seq > max) max = r.seq;
  return max;
}

/** Audit records appended after `seq`. */
export function since(seq: number): Record<string, any>[] {
  return auditRecords().filter((r) => typeof r.seq === 'number' && r.seq > seq);
}

/** Records after `seq` that say a non-dry-run request for `target` was forwarded upstream. */
export function forwardedSince(seq: number, target: string): Record<string, any>[] {
  return since(seq).filter(
    (r) => r.event === 'forwarded' && !r.dry_run && String(r.resource ?? '').includes(target),
  );
}

/** Records after `seq` that show the gate stopped a request for `target` (held, blocked or refused). */
export function stoppedSince(seq: number, target: string): Record<string, any>[] {
  return since(seq).filter(
    (r) =>
      ['held', 'blocked', 'rejected'].includes(String(r.event)) && String(r.resource ?? '').includes(target),
  );
}

/** A held request, cut short by the client: enough to see it was held, not long enough to wait out the hold. */
export const HELD_MS = 1500;

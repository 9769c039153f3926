import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type KubeResponse, kubeCall } from '../kube/client.js';
import type { Upstream } from '../upstream.js';
import type { PlanView } from '../wire/plan-view.js';
import type { PendingRequest, PendingStatus, Snapshot } from '../wire/request-view.js';
import { watchConfigMaps } from './kubernetes-news.js';
import type { PruneRules, StateStore, StoredApproval } from './store.js';

/**
 * The shared store for several replicas: every entity is a ConfigMap in
 * kubegate's own namespace, so etcd (through the API server) is the one
 * consistent store and no database is added.
 *
 * Atomicity comes from the API server alone:
 * - single use of a token id: CREATE of `kg-jti.<sha256(jti)>`; 409 AlreadyExists is a replay.
 *   An approval *is* that ConfigMap (kind=approval), so recording it and burning its jti is one step.
 * - state changes: read → check → UPDATE carrying the read `resourceVersion`; a 409 Conflict
 *   means someone else changed it first, so re-read and decide again.
 * - consuming several approvals all-or-none: see `consumeApprovals` (claims + one commit record).
 */

export interface KubernetesStoreOptions {
  namespace: string;
  /** `Bearer <kubegate's own token>`; a function when the token rotates (a projected service-account token). */
  authorization: string | (() => string);
}

/** A failure talking to the API server that is not part of the store's normal answers. */
export class KubernetesStoreError extends Error {
  override name = 'KubernetesStoreError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type Kind =
  | 'pending'
  | 'approval'
  | 'jti'
  | 'dryrun'
  | 'freeze'
  | 'snapshot'
  | 'consumption'
  | 'withdrawn'
  | 'plan';

interface ConfigMap {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
  };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

interface ConfigMapList {
  items: ConfigMap[] | null;
  metadata: { continue?: string };
}

/** State of one consumption (see consumeApprovals). */
interface Consumption {
  state: 'pending' | 'committed' | 'aborted';
  jtis: string[];
  /** The `now` of consumeApprovals: what `usedAt` becomes. */
  at: number;
  createdAt: number;
}

const MANAGED_BY = 'app.kubernetes.io/managed-by';
const KIND = 'kubegate.dev/kind';
const STATUS = 'kubegate.dev/status';
const FP = 'kubegate.dev/fingerprint';
const APPROVER = 'kubegate.dev/approver';
/** Above this a doc is stored gzipped in binaryData (a ConfigMap holds at most 1 MiB). */
const GZIP_ABOVE = 512 * 1024;
const MAX_DOC = 1024 * 1024 - 4096;
/** A consumption still pending after this long was abandoned (its replica died): others may abort it. */
const STALE_CONSUMPTION_MS = 30_000;
const MAX_CONFLICT_RETRIES = 100;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** Label values are at most 63 characters: the first 63 hex digits of a sha256 (252 bits). */
const labelHash = (s: string) => sha256(s).slice(0, 63);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,198}[a-z0-9])?$/;

/**
 * A ConfigMap name for a key: readable (`kg-pending-req-20261125-ab12`) when the key is a
 * DNS label, else hashed (`kg-pending.<sha256>`); the dot keeps the two forms from colliding.
 */
function nameFor(prefix: string, key: string, alwaysHash = false): string {
  return !alwaysHash && DNS_LABEL.test(key) ? `${prefix}-${key}` : `${prefix}.${sha256(key)}`;
}

function encodeDoc(doc: unknown, what: string): Pick<ConfigMap, 'data' | 'binaryData'> {
  const json = JSON.stringify(doc);
  if (Buffer.byteLength(json) <= GZIP_ABOVE) return { data: { doc: json } };
  const gz = gzipSync(json);
  if (gz.length > MAX_DOC)
    throw new KubernetesStoreError(
      `${what} is too large for the Kubernetes state store (${gz.length} bytes gzipped; a ConfigMap holds 1 MiB)`,
      413,
    );
  return { binaryData: { 'doc.json.gz': gz.toString('base64') } };
}

function decodeDoc<T>(cm: ConfigMap): T {
  const gz = cm.binaryData?.['doc.json.gz'];
  const json = gz ? gunzipSync(Buffer.from(gz, 'base64')).toString('utf8') : cm.data?.doc;
  if (json === undefined) throw new KubernetesStoreError(`ConfigMap ${cm.metadata.name} has no doc`, 500);
  return JSON.parse(json) as T;
}

const num = (s: string | undefined): number | undefined =>
  s === undefined || s === '' ? undefined : Number(s);

export class KubernetesStore implements StateStore {
  private readonly base: string;
  private readonly auth: () => string;
  private readonly watches = new Set<() => void>();

  constructor(
    private readonly upstream: Upstream,
    private readonly opts: KubernetesStoreOptions,
  ) {
    if (!DNS_LABEL.test(opts.namespace) || opts.namespace.length > 63)
      throw new KubernetesStoreError(`invalid namespace name "${opts.namespace}"`, 400);
    this.base = `/api/v1/namespaces/${opts.namespace}/configmaps`;
    const a = opts.authorization;
    this.auth = typeof a === 'function' ? a : () => a;
  }

  /**
   * Opens the store: makes sure the namespace exists (creating it when kubegate may) and
   * that kubegate may write ConfigMaps in it, so a missing grant fails at start, not mid-request.
   */
  static async open(upstream: Upstream, opts: KubernetesStoreOptions): Promise<KubernetesStore> {
    const store = new KubernetesStore(upstream, opts);
    await store.ensureNamespace();
    return store;
  }

  private async ensureNamespace(): Promise<void> {
    const ns = this.opts.namespace;
    const nsPath = `/api/v1/namespaces/${ns}`;
    const got = await this.call({ path: nsPath });
    if (got.status === 404) {
      const made = await this.call({
        method: 'POST',
        path: '/api/v1/namespaces',
        body: {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns, labels: { [MANAGED_BY]: 'kubegate' } },
        },
      });
      if (made.status !== 201 && made.status !== 409)
        throw this.error(made, `state namespace "${ns}" does not exist and kubegate cannot create it`);
    } else if (got.status !== 200 && got.status !== 403) {
      // 403: kubegate may not read Namespaces (a namespaced Role); the probe below still tells.
      throw this.error(got, `cannot check the state namespace "${ns}"`);
    }
    // A server-side dry-run create proves the namespace exists and the RBAC grant is in place.
    const probe = await this.call({
      method: 'POST',
      path: `${this.base}?dryRun=All`,
      body: this.configMap('kg-probe', 'freeze', {}, { data: {} }),
    });
    if (probe.status === 404)
      throw this.error(
        probe,
        `state namespace "${ns}" does not exist: create it (kubectl create namespace ${ns})`,
      );
    if (probe.status === 401 || probe.status === 403)
      throw this.error(
        probe,
        `kubegate may not manage ConfigMaps in "${ns}": grant create/get/list/update/delete on configmaps there (deploy/rbac.yaml)`,
      );
    if (probe.status !== 201 && probe.status !== 409)
      throw this.error(probe, `cannot write to the state namespace "${ns}"`);
  }

  // ---- API plumbing -------------------------------------------------------------------------

  private call<T = unknown>(o: {
    method?: string;
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
  }): Promise<KubeResponse<T>> {
    return kubeCall<T>(this.upstream, {
      ...o,
      authorization: this.auth(),
      timeoutMs: 15_000,
    });
  }

  private error(r: KubeResponse, what: string): KubernetesStoreError {
    const b = r.body as { message?: string } | string | null;
    const detail = typeof b === 'string' ? b.slice(0, 300) : (b?.message ?? '');
    return new KubernetesStoreError(`${what}: HTTP ${r.status}${detail ? ` ${detail}` : ''}`, r.status);
  }

  private configMap(
    name: string,
    kind: Kind,
    labels: Record<string, string>,
    content: Pick<ConfigMap, 'data' | 'binaryData'>,
    resourceVersion?: string,
  ): ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: this.opts.namespace,
        labels: { [MANAGED_BY]: 'kubegate', [KIND]: kind, ...labels },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      ...content,
    };
  }

  private async get(name: string): Promise<ConfigMap | undefined> {
    const r = await this.call<ConfigMap>({ path: `${this.base}/${name}` });
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw this.error(r, `reading ${name}`);
    return r.body;
  }

  /** CREATE; false when the name is taken (409 AlreadyExists). */
  private async create(cm: ConfigMap): Promise<boolean> {
    const r = await this.call({ method: 'POST', path: this.base, body: cm });
    if (r.status === 201) return true;
    if (r.status === 409) return false;
    throw this.error(r, `creating ${cm.metadata.name}`);
  }

  /** UPDATE guarded by `metadata.resourceVersion`; false on 409 Conflict (someone changed it first) or 404. */
  private async update(cm: ConfigMap): Promise<boolean> {
    const r = await this.call({ method: 'PUT', path: `${this.base}/${cm.metadata.name}`, body: cm });
    if (r.status === 200) return true;
    if (r.status === 409 || r.status === 404) return false;
    throw this.error(r, `updating ${cm.metadata.name}`);
  }

  /** INSERT OR REPLACE: create, or overwrite unconditionally (last writer wins, as in SQLite). */
  private async upsert(cm: ConfigMap): Promise<void> {
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      if (await this.create(cm)) return;
      const cur = await this.get(cm.metadata.name);
      if (!cur) continue; // deleted in between: create again
      const next: ConfigMap = {
        ...cm,
        metadata: { ...cm.metadata, resourceVersion: cur.metadata.resourceVersion! },
      };
      if (await this.update(next)) return;
      await backoff(i);
    }
    throw new KubernetesStoreError(`writing ${cm.metadata.name}: too many conflicts`, 409);
  }

  private async delete(name: string): Promise<void> {
    const r = await this.call({ method: 'DELETE', path: `${this.base}/${name}` });
    if (r.status !== 200 && r.status !== 202 && r.status !== 404) throw this.error(r, `deleting ${name}`);
  }

  private async list(selector: string): Promise<ConfigMap[]> {
    const items: ConfigMap[] = [];
    let cont: string | undefined;
    do {
      const q = new URLSearchParams({ labelSelector: `${MANAGED_BY}=kubegate,${selector}`, limit: '500' });
      if (cont) q.set('continue', cont);
      const r = await this.call<ConfigMapList>({ path: `${this.base}?${q}` });
      if (r.status !== 200) throw this.error(r, `listing ${selector}`);
      items.push(...(r.body.items ?? [])); // an empty list may come as null
      cont = r.body.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  /** Counts without transferring the docs (metadata-only list). */
  private async count(selector: string): Promise<number> {
    let n = 0;
    let cont: string | undefined;
    do {
      const q = new URLSearchParams({ labelSelector: `${MANAGED_BY}=kubegate,${selector}`, limit: '500' });
      if (cont) q.set('continue', cont);
      const r = await this.call<ConfigMapList>({
        path: `${this.base}?${q}`,
        headers: {
          accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
        },
      });
      if (r.status !== 200) throw this.error(r, `counting ${selector}`);
      n += r.body.items?.length ?? 0; // a metadata-only list with no items has `items: null`
      cont = r.body.metadata.continue || undefined;
    } while (cont);
    return n;
  }

  // ---- pending requests -----------------------------------------------------------------------

  private pendingName(id: string) {
    return nameFor('kg-pending', id);
  }

  private pendingMap(p: PendingRequest, resourceVersion?: string): ConfigMap {
    return this.configMap(
      this.pendingName(p.id),
      'pending',
      { [STATUS]: p.status, [FP]: labelHash(p.fingerprint) },
      encodeDoc(p, `pending request ${p.id}`),
      resourceVersion,
    );
  }

  async getPending(id: string) {
    const cm = await this.get(this.pendingName(id));
    return cm ? decodeDoc<PendingRequest>(cm) : undefined;
  }

  async findPendingByFingerprint(fingerprint: string, statuses: PendingStatus[] = ['pending', 'approved']) {
    const all = (
      await this.list(`${KIND}=pending,${FP}=${labelHash(fingerprint)},${STATUS} in (${statuses.join(',')})`)
    )
      .map((cm) => decodeDoc<PendingRequest>(cm))
      .filter((p) => p.fingerprint === fingerprint && statuses.includes(p.status));
    all.sort((a, b) => b.createdAt - a.createdAt);
    return all[0];
  }

  async listPending(statuses: PendingStatus[] = ['pending', 'approved']) {
    if (statuses.length === 0) return [];
    const all = (await this.list(`${KIND}=pending,${STATUS} in (${statuses.join(',')})`))
      .map((cm) => decodeDoc<PendingRequest>(cm))
      .filter((p) => statuses.includes(p.status));
    return all.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async putPending(p: PendingRequest) {
    await this.upsert(this.pendingMap(p));
  }

  async transitionPending(id: string, from: PendingStatus[], to: PendingStatus, message?: string) {
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      const cm = await this.get(this.pendingName(id));
      if (!cm) return false;
      const p = decodeDoc<PendingRequest>(cm);
      if (!from.includes(p.status)) return false;
      p.status = to;
      p.updatedAt = Date.now();
      if (message !== undefined) p.message = message;
      // the read resourceVersion makes this a compare-and-swap: of two racing replicas one gets 409
      if (await this.update(this.pendingMap(p, cm.metadata.resourceVersion))) return true;
      await backoff(i);
    }
    throw new KubernetesStoreError(`transition of ${id}: too many conflicts`, 409);
  }

  async countPending() {
    return this.count(`${KIND}=pending,${STATUS}=pending`);
  }

  // ---- approvals and token ids ----------------------------------------------------------------

  /** One name per token id, shared by approvals and other used jtis: creating it is the single-use check. */
  private jtiName(jti: string) {
    return nameFor('kg-jti', jti, true);
  }

  private consumptionName(id: string) {
    return `kg-consume.${id}`;
  }

  async addApproval(a: StoredApproval) {
    const data: Record<string, string> = { doc: JSON.stringify(a), addedAt: String(Date.now()) };
    if (a.usedAt !== undefined) data.usedAt = String(a.usedAt);
    return this.create(
      this.configMap(
        this.jtiName(a.jti),
        'approval',
        { [FP]: labelHash(a.fingerprint), [APPROVER]: labelHash(a.approver) },
        { data },
      ),
    );
  }

  async useJti(jti: string, exp: number) {
    return this.create(this.configMap(this.jtiName(jti), 'jti', {}, { data: { jti, exp: String(exp) } }));
  }

  private async getConsumption(name: string): Promise<{ cm: ConfigMap; c: Consumption } | undefined> {
    const cm = await this.get(name);
    return cm ? { cm, c: decodeDoc<Consumption>(cm) } : undefined;
  }

  /** Compare-and-swap of a consumption's state; false when it was no longer `pending`. */
  private async settleConsumption(name: string, to: 'committed' | 'aborted'): Promise<boolean> {
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      const cur = await this.getConsumption(name);
      if (!cur || cur.c.state !== 'pending') return false;
      const next = this.configMap(
        name,
        'consumption',
        {},
        encodeDoc({ ...cur.c, state: to }, 'consumption'),
        cur.cm.metadata.resourceVersion,
      );
      if (await this.update(next)) return true;
      await backoff(i);
    }
    throw new KubernetesStoreError(`settling ${name}: too many conflicts`, 409);
  }

  /**
   * An approval's effective state. `claim` names the consumption that is taking it:
   * committed → the approval is used; aborted or gone → the claim is void; pending → in flight.
   * (A consumption is deleted only after every claim naming it was cleared, and clearing changes
   * the approval's resourceVersion, so "gone" seen through a stale read only leads to a failed CAS.)
   */
  private async approvalState(cm: ConfigMap): Promise<{
    a: StoredApproval;
    usedAt: number | undefined;
    revokedAt: number | undefined;
    claim: { name: string; c: Consumption } | undefined;
  }> {
    const a = JSON.parse(cm.data?.doc ?? 'null') as StoredApproval;
    let usedAt = num(cm.data?.usedAt);
    const revokedAt = num(cm.data?.revokedAt);
    let claim: { name: string; c: Consumption } | undefined;
    const claimName = cm.data?.claim;
    if (claimName) {
      const cur = await this.getConsumption(claimName);
      if (cur?.c.state === 'committed' && usedAt === undefined) usedAt = cur.c.at;
      else if (cur?.c.state === 'pending') claim = { name: claimName, c: cur.c };
    }
    return { a, usedAt, revokedAt, claim };
  }

  /** Writes an approval's state fields with CAS on the read resourceVersion. */
  private writeApproval(
    cm: ConfigMap,
    state: { usedAt?: number | undefined; revokedAt?: number | undefined; claim?: string | undefined },
  ): Promise<boolean> {
    const data: Record<string, string> = { doc: cm.data?.doc ?? 'null', addedAt: cm.data?.addedAt ?? '0' };
    if (state.usedAt !== undefined) data.usedAt = String(state.usedAt);
    if (state.revokedAt !== undefined) data.revokedAt = String(state.revokedAt);
    if (state.claim !== undefined) data.claim = state.claim;
    return this.update({
      ...cm,
      metadata: { ...cm.metadata, resourceVersion: cm.metadata.resourceVersion! },
      data,
    });
  }

  async approvalsFor(fingerprint: string, now: number) {
    const nowSec = Math.floor(now / 1000);
    const maps = await this.list(`${KIND}=approval,${FP}=${labelHash(fingerprint)}`);
    maps.sort(
      (x, y) =>
        Number(x.data?.addedAt ?? 0) - Number(y.data?.addedAt ?? 0) ||
        (x.metadata.name < y.metadata.name ? -1 : 1),
    );
    const live: StoredApproval[] = [];
    for (const cm of maps) {
      const s = await this.approvalState(cm);
      // an approval claimed by an in-flight consumption still reads as live (as a reader of the
      // SQLite file sees the state before an uncommitted transaction); consuming it re-checks
      if (
        s.a.fingerprint === fingerprint &&
        s.usedAt === undefined &&
        s.revokedAt === undefined &&
        s.a.exp > nowSec
      )
        live.push(s.a);
    }
    return live;
  }

  /**
   * All or none, and never twice, across replicas:
   * 1. create a consumption record `kg-consume.<random>` in state `pending`;
   * 2. claim each approval (sorted by jti) with a CAS update writing `claim: <record>` — refused
   *    when the approval is missing, used, revoked, or claimed by another live consumption;
   * 3. the commit point is ONE CAS on the record: pending → committed. From that instant every
   *    claimed approval reads as used (approvalState), wherever the replica that reads it;
   * 4. afterwards (best effort, idempotent) each approval gets `usedAt` and loses its claim, then
   *    the record is deleted. On any refusal the record goes pending → aborted and the claims are
   *    dropped, so nothing was consumed.
   * A revoke that meets a pending claim aborts that consumption first (CAS), so a revoked
   * approval can never be consumed; a consumption abandoned by a dead replica is aborted by the
   * next claimer after STALE_CONSUMPTION_MS.
   */
  async consumeApprovals(jtis: string[], now: number) {
    if (jtis.length === 0) return true;
    if (new Set(jtis).size !== jtis.length) return false; // SQLite: the second UPDATE of a jti changes nothing
    const id = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
    const record = this.consumptionName(id);
    const c: Consumption = { state: 'pending', jtis: [...jtis], at: now, createdAt: Date.now() };
    if (!(await this.create(this.configMap(record, 'consumption', {}, encodeDoc(c, 'consumption')))))
      throw new KubernetesStoreError(`consumption record ${record} exists`, 409);
    const claimed: string[] = [];
    let ok = true;
    try {
      for (const jti of [...jtis].sort()) {
        if (!(await this.claim(jti, record))) {
          ok = false;
          break;
        }
        claimed.push(jti);
      }
      if (ok) ok = await this.settleConsumption(record, 'committed');
      else await this.settleConsumption(record, 'aborted');
    } catch (err) {
      // the API server failed us midway: give the claims up now rather than after STALE_CONSUMPTION_MS
      await this.settleConsumption(record, 'aborted').catch(() => false);
      throw err;
    }
    // Clean-up: committed → usedAt is written into each approval; aborted → claims are dropped.
    // A failure here leaves the record in place, which keeps the outcome readable.
    try {
      for (const jti of claimed) await this.finishClaim(jti, record);
      await this.delete(record);
    } catch {
      // the record still says committed/aborted: readers resolve the claims through it
    }
    return ok;
  }

  /** Step 2 of consumeApprovals for one approval. */
  private async claim(jti: string, record: string): Promise<boolean> {
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      const cm = await this.get(this.jtiName(jti));
      if (!cm || cm.metadata.labels?.[KIND] !== 'approval') return false;
      const s = await this.approvalState(cm);
      if (s.a.jti !== jti || s.usedAt !== undefined || s.revokedAt !== undefined) return false;
      if (s.claim) {
        // another consumption holds it: it wins, unless it was abandoned
        if (Date.now() - s.claim.c.createdAt < STALE_CONSUMPTION_MS) return false;
        await this.settleConsumption(s.claim.name, 'aborted');
        continue;
      }
      if (await this.writeApproval(cm, { usedAt: s.usedAt, revokedAt: s.revokedAt, claim: record }))
        return true;
      await backoff(i);
    }
    return false;
  }

  /** Step 4: folds a settled claim into the approval (usedAt when committed) and removes it. */
  private async finishClaim(jti: string, record: string): Promise<void> {
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      const cm = await this.get(this.jtiName(jti));
      if (!cm || cm.data?.claim !== record) return;
      const s = await this.approvalState(cm); // resolves usedAt from the record when committed
      if (s.claim) return; // still pending: not ours to settle
      if (await this.writeApproval(cm, { usedAt: s.usedAt, revokedAt: s.revokedAt })) return;
      await backoff(i);
    }
  }

  async releaseApprovals(jtis: string[]) {
    for (const jti of jtis) {
      for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
        const cm = await this.get(this.jtiName(jti));
        if (!cm || cm.metadata.labels?.[KIND] !== 'approval') break;
        const s = await this.approvalState(cm);
        if (s.claim) break; // being consumed right now: that consumption decides
        if (await this.writeApproval(cm, { revokedAt: s.revokedAt })) break;
        await backoff(i);
      }
    }
  }

  async revokeApprovals(filter: { jtis?: string[]; fingerprint?: string; approver?: string }, now: number) {
    let maps: ConfigMap[];
    if (filter.jtis) {
      maps = [];
      for (const jti of new Set(filter.jtis)) {
        const cm = await this.get(this.jtiName(jti));
        if (cm && cm.metadata.labels?.[KIND] === 'approval') maps.push(cm);
      }
    } else {
      const sel = [`${KIND}=approval`];
      if (filter.fingerprint) sel.push(`${FP}=${labelHash(filter.fingerprint)}`);
      if (filter.approver) sel.push(`${APPROVER}=${labelHash(filter.approver)}`);
      maps = await this.list(sel.join(','));
    }
    let n = 0;
    for (const first of maps) {
      let cm: ConfigMap | undefined = first;
      for (let i = 0; cm && i < MAX_CONFLICT_RETRIES; i++) {
        const s = await this.approvalState(cm);
        if (filter.jtis && !filter.jtis.includes(s.a.jti)) break;
        if (filter.fingerprint !== undefined && s.a.fingerprint !== filter.fingerprint) break;
        if (filter.approver !== undefined && s.a.approver !== filter.approver) break;
        if (s.revokedAt !== undefined) break;
        // in use by a run under way: not counted, but marked, so a give-back does not revive it
        if (s.usedAt !== undefined) {
          if (await this.writeApproval(cm, { usedAt: s.usedAt, revokedAt: now })) break;
          await backoff(i);
        }
        // a consumption in flight loses to the revoke (if it committed first, the re-read shows it used)
        else if (s.claim) await this.settleConsumption(s.claim.name, 'aborted');
        else if (await this.writeApproval(cm, { revokedAt: now })) {
          n++;
          break;
        } else await backoff(i);
        cm = await this.get(cm.metadata.name);
      }
    }
    return n;
  }

  // ---- dry runs, freeze, snapshots ------------------------------------------------------------

  async recordDryRun(fingerprint: string, at: number) {
    await this.upsert(
      this.configMap(
        nameFor('kg-dryrun', fingerprint, true),
        'dryrun',
        {},
        { data: { fingerprint, at: String(at) } },
      ),
    );
  }

  async hasDryRun(fingerprint: string) {
    const cm = await this.get(nameFor('kg-dryrun', fingerprint, true));
    return cm?.data?.fingerprint === fingerprint;
  }

  async markWithdrawn(fingerprint: string, at: number) {
    await this.upsert(
      this.configMap(
        nameFor('kg-withdrawn', fingerprint, true),
        'withdrawn',
        {},
        encodeDoc({ fingerprint, at }, 'withdrawn'),
      ),
    );
  }

  async withdrawnAt(fingerprint: string) {
    const cm = await this.get(nameFor('kg-withdrawn', fingerprint, true));
    return cm ? decodeDoc<{ at: number }>(cm).at : 0;
  }

  async getFreeze() {
    const cm = await this.get('kg-freeze');
    return cm ? decodeDoc<{ on: boolean; by?: string; at?: number; reason?: string }>(cm) : { on: false };
  }

  async setFreeze(f: { on: boolean; by: string; at: number; reason?: string }) {
    await this.upsert(this.configMap('kg-freeze', 'freeze', {}, encodeDoc(f, 'freeze')));
  }

  async putSnapshot(s: Snapshot) {
    await this.upsert(
      this.configMap(
        nameFor('kg-snapshot', s.requestId),
        'snapshot',
        {},
        encodeDoc(s, `snapshot of ${s.requestId}`),
      ),
    );
  }

  async getSnapshot(requestId: string) {
    const cm = await this.get(nameFor('kg-snapshot', requestId));
    return cm ? decodeDoc<Snapshot>(cm) : undefined;
  }

  // ---- plans ------------------------------------------------------------------------------------

  private planMap(p: PlanView, resourceVersion?: string): ConfigMap {
    return this.configMap(
      nameFor('kg-plan', p.id),
      'plan',
      {},
      encodeDoc(p, `plan ${p.id}`),
      resourceVersion,
    );
  }

  async createPlan(p: PlanView) {
    return this.create(this.planMap(p));
  }

  async getPlan(id: string) {
    const cm = await this.get(nameFor('kg-plan', id));
    return cm ? decodeDoc<PlanView>(cm) : undefined;
  }

  async listPlans() {
    const all = (await this.list(`${KIND}=plan`)).map((cm) => decodeDoc<PlanView>(cm));
    return all.sort((a, b) => a.id.localeCompare(b.id));
  }

  async updatePlan(id: string, change: (p: PlanView) => PlanView | undefined) {
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      const cm = await this.get(nameFor('kg-plan', id));
      if (!cm) return undefined;
      const cur = decodeDoc<PlanView>(cm);
      const next = change(cur);
      if (!next) return cur;
      if (await this.update(this.planMap(next, cm.metadata.resourceVersion))) return next;
      await backoff(i);
    }
    throw new KubernetesStoreError(`updating plan ${id}: too many conflicts`, 409);
  }

  /**
   * One pass over every kind that grows. Each ConfigMap is deleted with its read resourceVersion
   * as a precondition, so one changed meanwhile (or pruned by another replica) is left alone.
   */
  async prune(r: PruneRules) {
    const expiredSec = Math.floor(r.tokensExpiredBefore / 1000);
    const due: Record<string, (cm: ConfigMap) => boolean> = {
      approval: (cm) => decodeDoc<StoredApproval>(cm).exp < expiredSec,
      jti: (cm) => Number(cm.data?.exp) < expiredSec,
      // a consumption tells whether the approvals it claimed were used: kept while any could be live
      consumption: (cm) => decodeDoc<Consumption>(cm).createdAt < r.tokenWindowBefore,
      withdrawn: (cm) => decodeDoc<{ at: number }>(cm).at < r.tokenWindowBefore,
      pending: (cm) => decodeDoc<PendingRequest>(cm).updatedAt < r.recordsBefore,
      dryrun: (cm) => Number(cm.data?.at) < r.recordsBefore,
      snapshot: (cm) => decodeDoc<Snapshot>(cm).createdAt < r.recordsBefore,
      plan: (cm) => decodeDoc<PlanView>(cm).updatedAt < r.recordsBefore,
    };
    let n = 0;
    for (const [kind, isDue] of Object.entries(due)) {
      for (const cm of await this.list(`${KIND}=${kind}`)) {
        if (isDue(cm) && (await this.deleteIfUnchanged(cm))) n++;
      }
    }
    return n;
  }

  /** DELETE with a resourceVersion precondition; false when it changed or is already gone. */
  private async deleteIfUnchanged(cm: ConfigMap): Promise<boolean> {
    const r = await this.call({
      method: 'DELETE',
      path: `${this.base}/${cm.metadata.name}`,
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { resourceVersion: cm.metadata.resourceVersion },
      },
    });
    if (r.status === 200 || r.status === 202) return true;
    if (r.status === 404 || r.status === 409) return false;
    throw this.error(r, `pruning ${cm.metadata.name}`);
  }

  watchNews(onNews: (key: string) => void): () => void {
    const stop = watchConfigMaps(
      {
        upstream: this.upstream,
        base: this.base,
        labelSelector: `${MANAGED_BY}=kubegate,${KIND} in (pending,approval)`,
        keyLabel: FP,
        authorization: this.auth,
      },
      onNews,
    );
    this.watches.add(stop);
    return () => {
      this.watches.delete(stop);
      stop();
    };
  }

  newsKey(fingerprint: string): string {
    return labelHash(fingerprint);
  }

  async close() {
    // the upstream's agent belongs to the caller; only the change feeds are kubegate's to stop
    for (const stop of this.watches) stop();
    this.watches.clear();
  }
}

/** Short jittered pause after a lost compare-and-swap, growing a little with each attempt. */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 5)) * Math.random());
}

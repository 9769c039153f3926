// Fixtures for the approve-cli tests: held requests as kubegate would show them, output sinks, a fake transport.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpResponse, Transport } from '../../../src/approvecli/transport.js';
import type { PendingView } from '../../../src/approvecli/types.js';
import { fingerprint } from '../../../src/wire/fingerprint.js';
import type { Preview } from '../../../src/wire/preview.js';
import type { PendingDetail } from '../../../src/wire/request-view.js';

export const NOW = Date.parse('2026-11-25T12:00:00Z');

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kubegate-approvecli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function sink(): { write: (s: string) => boolean; text: () => string } {
  const chunks: string[] = [];
  return {
    write: (s: string) => {
      chunks.push(s);
      return true;
    },
    text: () => chunks.join(''),
  };
}

export const liveDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'api',
    namespace: 'production',
    uid: 'u-1',
    resourceVersion: '4242',
    creationTimestamp: '2026-11-01T00:00:00Z',
    labels: { app: 'api' },
    managedFields: [{ manager: 'kubectl', operation: 'Update' }],
  },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          { name: 'api', image: 'api:1.0', env: [{ name: 'MODE', value: 'a' }] },
          { name: 'sidecar', image: 'proxy:2' },
        ],
      },
    },
  },
  status: { replicas: 1 },
};

/** The preview kubegate sends for the default held patch: a dry run that leaves the Deployment at 3 replicas. */
export const patchPreview: Preview = {
  available: true,
  status: 200,
  object: { ...liveDeployment, spec: { ...liveDeployment.spec, replicas: 3 } },
};

/** The fake transport's key for a request's preview. */
export const dryRunRoute = (id: string) => `GET /kubegate/v1/requests/${id}/dryrun`;

/** A held request's detail; its cluster is a single-cluster kubegate's (cluster_name `kubegate`). */
export function detail(over: Partial<PendingDetail> = {}): PendingDetail {
  return {
    cluster: 'kubegate',
    verb: 'patch',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    subresource: '',
    namespace: 'production',
    name: 'api',
    path: '/apis/apps/v1/namespaces/production/deployments/api',
    query: { fieldManager: ['kubectl-edit'] },
    contentType: 'application/merge-patch+json',
    body: { spec: { replicas: 3 } },
    oldObject: liveDeployment,
    resourceVersion: '4242',
    override_required: false,
    approvals_required: 1,
    dry_run_first: false,
    policy: 'sha256:policy',
    ...over,
  };
}

/** A held request with the fingerprint kubegate would compute for it. */
export function view(
  over: Partial<Omit<PendingView, 'detail'>> & { detail?: Partial<PendingDetail> } = {},
): PendingView {
  const { detail: d, ...rest } = over;
  const det = detail(d);
  const requester = rest.requester ?? 'system:serviceaccount:agents:clawd';
  return {
    id: 'req-20261125-0007',
    fingerprint: fingerprint({ ...det, user: requester, body: det.body }),
    status: 'pending',
    requester,
    risk: 'HIGH',
    reasons: ['change in a production namespace'],
    target: 'production/deployments/api',
    createdAt: NOW - 120_000,
    updatedAt: NOW - 120_000,
    detail: det,
    conflicts: [],
    approvals: [],
    ...rest,
  };
}

/** A transport that answers from a table of `METHOD path` → response, and records every call. */
export function fakeTransport(routes: Record<string, HttpResponse>): Transport & {
  calls: { method: string; path: string; headers: Record<string, string>; body?: unknown }[];
} {
  const calls: { method: string; path: string; headers: Record<string, string>; body?: unknown }[] = [];
  return {
    calls,
    async request(method, path, headers, body) {
      calls.push({ method, path, headers, ...(body !== undefined ? { body } : {}) });
      return (
        routes[`${method} ${path}`] ?? {
          status: 404,
          body: { kind: 'Status', code: 404, reason: 'NotFound', message: `no route ${path}` },
        }
      );
    },
  };
}

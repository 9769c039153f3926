import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditInput } from './audit/log.js';
import { kubeCall } from './kube/client.js';
import type { Upstream } from './upstream.js';

/** Workloads whose rollout can be watched to settle after a change. */
const ROLLOUTS = new Set(['deployments', 'statefulsets']);

interface WorkloadStatus {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

function settled(w: WorkloadStatus): boolean {
  const want = w.spec?.replicas ?? 1;
  const s = w.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.readyReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want
  );
}

export function hasRollout(group: string, resource: string): boolean {
  return group === 'apps' && ROLLOUTS.has(resource);
}

/**
 * Post-execution check: waits (bounded) for a Deployment/StatefulSet rollout to
 * settle and returns a `validated` or `validation_failed` record with what was
 * observed against what was expected, and the command that undoes the change.
 */
export async function checkRollout(
  upstream: Upstream,
  credentials: Record<string, string | string[]>,
  objectPath: string,
  requestId: string,
  timeoutMs: number,
): Promise<AuditInput> {
  const deadline = Date.now() + timeoutMs;
  let last: WorkloadStatus | undefined;
  for (;;) {
    const r = await kubeCall<WorkloadStatus>(upstream, { path: objectPath, headers: credentials }).catch(
      () => undefined,
    );
    if (r?.status === 200) {
      last = r.body;
      if (settled(last)) {
        return {
          event: 'validated',
          request_id: requestId,
          status: 'success',
          observed: last.status ?? {},
          expected: { replicas: last.spec?.replicas ?? 1 },
        };
      }
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  return {
    event: 'validation_failed',
    request_id: requestId,
    status: 'failed',
    observed: last?.status ?? null,
    expected: { replicas: last?.spec?.replicas ?? 1, generation: last?.metadata?.generation ?? null },
    message: `rollout did not settle within ${timeoutMs / 1000}s; to undo: approve-cli rollback ${requestId}`,
  };
}

import type { PendingDetail } from '../wire/request-view.js';
import type { ChangeSet } from './change.js';
import { deleteOptions } from './change.js';
import { createdName, kubectlResource, kubectlTarget, objectRef } from './describe.js';
import { formatValue, getIn, isObj } from './values.js';

/**
 * How to undo a held request once it has run, in words an approver can check
 * before approving: the old values of every field it changes, or what to
 * re-create or delete. `requestId` names the snapshot kubegate keeps.
 */
export function rollbackPlan(requestId: string, d: PendingDetail, change: ChangeSet): string[] {
  const live = isObj(d.oldObject) ? d.oldObject : undefined;
  const rv = d.resourceVersion ?? (getIn(live, ['metadata', 'resourceVersion']) as string | undefined);
  const snapshot = `re-create from the snapshot kubegate keeps of the live object${rv ? ` (resourceVersion ${rv})` : ''}: approve-cli rollback ${requestId}`;

  switch (d.verb) {
    case 'create': {
      if (d.subresource === 'eviction') {
        return [
          'an eviction deletes the pod: a controller (Deployment, StatefulSet...) re-creates it; a bare pod is gone for good',
        ];
      }
      if (d.subresource) return [`no automatic rollback for the ${d.subresource} subresource`];
      const name = createdName(d);
      if (name)
        return [`delete the created object: kubectl delete ${kubectlResource(d)} ${kubectlTarget(d, name)}`];
      return [
        'delete the created object (its name is generated: find it in the audit record of this request)',
      ];
    }
    case 'delete': {
      if (!live)
        return [
          'no snapshot: kubegate could not read the live object, so it cannot be re-created from kubegate',
        ];
      const plan = [
        snapshot,
        're-created objects get a new uid; anything that referred to the old uid must be re-pointed',
      ];
      if (d.resource === 'namespaces' && !d.group) {
        plan.push(
          'deleting a namespace deletes everything in it: re-creating the namespace does not bring those objects back',
        );
      } else if (!/propagationPolicy=Orphan|orphanDependents=true/.test(deleteOptions(d))) {
        plan.push(
          'objects it owns (ReplicaSets, Pods, Jobs...) are garbage-collected; controllers re-create them once it is restored',
        );
      }
      if (d.resource === 'persistentvolumeclaims' || d.resource === 'persistentvolumes') {
        plan.push(
          'the data on the volume may be gone for good (reclaim policy Delete): re-creating the object does not restore it',
        );
      }
      return plan;
    }
    case 'deletecollection':
      return ['no per-object snapshot: re-create the deleted objects from their manifests (or backups)'];
    case 'connect':
      if (d.subresource === 'proxy')
        return [
          'cannot be undone: the backend acts on the request directly; check it above before approving',
        ];
      return [
        'cannot be undone: commands run inside the container directly; check the command above before approving',
      ];
    case 'patch':
    case 'update':
      return changePlan(d, change, live !== undefined, snapshot);
    default:
      return [`no rollback plan for verb "${d.verb}"`];
  }
}

function changePlan(d: PendingDetail, change: ChangeSet, hasLive: boolean, snapshot: string): string[] {
  const replicas = change.changes.find((c) => c.kind === 'set' && c.path === 'spec.replicas');
  if (d.subresource === 'scale' && replicas && replicas.kind === 'set' && typeof replicas.old === 'number') {
    return [
      `scale back to ${replicas.old}: kubectl scale ${kubectlResource(d)} ${kubectlTarget(d)} --replicas=${replicas.old}`,
    ];
  }
  if (!hasLive)
    return ['no snapshot: kubegate could not read the live object, so its previous values are unknown'];
  const steps: string[] = [];
  for (const c of change.changes) {
    if (c.kind === 'set' && c.old === undefined) {
      steps.push(
        c.path.endsWith('[+]') ? `remove the item appended to ${c.path.slice(0, -3)}` : `remove ${c.path}`,
      );
    } else if (c.kind === 'set' || c.kind === 'remove') {
      steps.push(`${c.path} = ${formatValue(c.old)}`);
    } else if (c.undo) {
      steps.push(`${c.path}: ${c.undo}`);
    }
  }
  if (!steps.length) return ['nothing to undo: every field it sets already has that value'];
  return [
    `restore previous values on ${kubectlResource(d)} ${objectRef(d)}:`,
    ...steps.map((s) => `  ${s}`),
    `or ${snapshot.replace(/^re-create/, 'restore')}`,
  ];
}

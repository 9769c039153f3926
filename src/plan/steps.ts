import { createHash } from 'node:crypto';
import type { ResourceRequestParts } from '../kube/build.js';
import type { ObjectRef } from '../wire/plan-view.js';
import type { PlanStepDoc } from './format.js';

/** Where a kind lives in the API: found by discovery (as the requester). */
export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

export type Discover = (apiVersion: string, kind: string) => Promise<ResourceInfo>;

/** One step as the request kubegate will send for it: the parts, the body, and a line for people. */
export interface StepRequest extends ResourceRequestParts {
  /** The cluster it is for (default: the one the plan came through). */
  cluster?: string;
  query: Record<string, string[]>;
  body: unknown;
  summary: string;
}

export class StepError extends Error {
  override readonly name = 'StepError';
}

/**
 * The field manager of a plan's server-side apply: one per requester, so one requester's partial
 * manifest never takes away the fields another requester's plan set (same manager, fields dropped).
 */
export function planFieldManager(requester: string): string {
  const name = `kubegate-plan/${requester}`;
  if (name.length <= 128 && !/[\p{C}]/u.test(name)) return name;
  return `kubegate-plan/sha256:${createHash('sha256').update(requester).digest('hex').slice(0, 32)}`;
}
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

async function locate(ref: ObjectRef, discover: Discover) {
  const info = await discover(ref.apiVersion, ref.kind);
  if (info.namespaced && !ref.namespace)
    throw new StepError(`${ref.kind} ${ref.name} is namespaced: give its namespace`);
  if (!info.namespaced && ref.namespace)
    throw new StepError(`${ref.kind} is cluster-scoped: ${ref.name} takes no namespace`);
  const namespace = info.namespaced ? ref.namespace! : '';
  const where = `${info.group ? `${info.group}/` : ''}${info.resource} ${namespace ? `${namespace}/` : ''}${ref.name}`;
  return { info, namespace, where };
}

function parts(info: ResourceInfo, namespace: string, name: string) {
  const { group, version, resource } = info;
  return { group, version, resource, namespace, name, subresource: '' };
}

/**
 * The request for one step. `now` fixes a restart's timestamp at submission, so the request
 * that runs is the one that was approved.
 */
export async function stepRequest(
  step: PlanStepDoc,
  discover: Discover,
  at: { now: Date; requester: string },
): Promise<StepRequest> {
  const now = at.now;
  if ('apply' in step) {
    const o = step.apply;
    const { info, namespace, where } = await locate(
      { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace },
      discover,
    );
    return {
      ...parts(info, namespace, o.metadata.name),
      verb: 'patch',
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: [planFieldManager(at.requester)], ...(step.force ? { force: ['true'] } : {}) },
      body: o,
      summary: `apply ${o.kind} ${where}${step.force ? ' (force)' : ''}`,
    };
  }
  if ('scale' in step) {
    const { info, namespace, where } = await locate(step.scale, discover);
    return {
      ...parts(info, namespace, step.scale.name),
      subresource: 'scale',
      verb: 'patch',
      contentType: PATCH_TYPES.merge,
      query: {},
      body: { spec: { replicas: step.scale.replicas } },
      summary: `scale ${where} to ${step.scale.replicas}`,
    };
  }
  if ('patch' in step) {
    const { info, namespace, where } = await locate(step.patch, discover);
    return {
      ...parts(info, namespace, step.patch.name),
      verb: 'patch',
      contentType: PATCH_TYPES[step.patch.type],
      query: {},
      body: step.patch.patch,
      summary: `patch (${step.patch.type}) ${where}`,
    };
  }
  if ('delete' in step) {
    const { info, namespace, where } = await locate(step.delete, discover);
    return {
      ...parts(info, namespace, step.delete.name),
      verb: 'delete',
      contentType: 'application/json',
      query: {},
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      summary: `delete ${where}`,
    };
  }
  const { info, namespace, where } = await locate(step.restart, discover);
  return {
    ...parts(info, namespace, step.restart.name),
    verb: 'patch',
    contentType: PATCH_TYPES.strategic,
    query: {},
    body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: now.toISOString() } } } } },
    summary: `rollout restart ${where}`,
  };
}

/** The object a step changes, as a key for drift checks (the parent of a subresource). */
export function objectKey(
  r: Pick<StepRequest, 'cluster' | 'group' | 'resource' | 'namespace' | 'name'>,
): string {
  return [r.cluster ?? '', r.group, r.resource, r.namespace, r.name].join('/');
}

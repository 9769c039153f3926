import type { KubeRequest } from '../kube/request.js';
import type { Impersonation } from '../wire/impersonation.js';

export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** The policy contract's input (see DESIGN.md "Policy contract"). */
export interface PolicyInput {
  request: {
    verb: string;
    group: string;
    version: string;
    resource: string;
    subresource: string;
    namespace: string;
    name: string;
    dryRun: boolean;
    path: string;
    query: Record<string, string[]>;
    contentType: string;
    resourceRequest: boolean;
    impersonate: Impersonation;
  };
  user: UserInfo;
  /** The cluster the request is for: its name and labels (e.g. env: production). */
  cluster: { name: string; labels: Record<string, string> };
  object: unknown;
  oldObject: unknown;
  config: Record<string, unknown>;
}

/** The cluster's part of the input, and the settings it overrides (`input.config`). */
export interface ClusterInput {
  name: string;
  labels: Record<string, string>;
  safety: { production_namespaces: string[]; block_production: boolean };
}

export function buildInput(
  kr: KubeRequest,
  user: UserInfo,
  object: unknown,
  oldObject: unknown,
  cluster: ClusterInput,
): PolicyInput {
  return {
    request: {
      verb: kr.verb,
      group: kr.group,
      version: kr.version,
      resource: kr.resource,
      subresource: kr.subresource,
      namespace: kr.namespace,
      name: kr.name,
      dryRun: kr.dryRun,
      path: kr.path,
      query: kr.query,
      contentType: kr.contentType,
      resourceRequest: kr.resourceRequest,
      impersonate: kr.impersonate,
    },
    user,
    cluster: { name: cluster.name, labels: cluster.labels },
    object: object ?? null,
    oldObject: oldObject ?? null,
    config: {
      production_namespaces: cluster.safety.production_namespaces,
      block_production: cluster.safety.block_production,
    },
  };
}

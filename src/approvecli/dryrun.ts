// The "server-side dry run" section of `approve-cli show`: what the apiserver says the change
// results in, compared with what is live; for a delete, what goes away.
import type { Preview } from '../wire/preview.js';
import type { PendingDetail } from '../wire/request-view.js';
import { deletedObject, hasNoDryRun, isNamespaceDelete, refused } from './blind.js';
import { isBinaryBody, kubectlResource } from './describe.js';
import { type Change, diffValues, renderChange } from './diff.js';
import { notableFields, objectHeading } from './summary.js';
import { deepEqual, getIn, isObj } from './values.js';

/** Fields the apiserver sets on every write: noise in a preview diff. */
const VOLATILE = /^metadata\.(resourceVersion|generation|managedFields|creationTimestamp|uid)/;
const STATUS = /^status([.[]|$)/;

/** Noise unless the change is to the status itself. */
function volatile(path: string, d: PendingDetail): boolean {
  return VOLATILE.test(path) || (d.subresource !== 'status' && STATUS.test(path));
}

const indent = (l: string) => `  ${l}`;

/** What a connect request does, since it has no dry run. */
const NO_DRY_RUN: Record<string, string> = {
  exec: 'what runs is the command above',
  attach: 'it attaches to the container above',
  portforward: 'it opens the ports above',
  proxy: 'the backend receives the method, path and body above',
};

export function dryRunLines(d: PendingDetail, p: Preview | undefined): string[] {
  if (hasNoDryRun(d)) {
    const what = NO_DRY_RUN[d.subresource] ?? 'the request above is all there is';
    return ['', `server-side dry run: none exists for ${d.subresource || d.verb} (${what})`];
  }
  if (!p) return [];
  if (!p.available) return ['', `server-side dry run: NOT AVAILABLE (${p.reason ?? 'no reason given'})`];
  if (refused(p)) {
    return [
      '',
      `server-side dry run: the apiserver REFUSED it (HTTP ${p.status ?? '?'}): ${p.message ?? ''}`,
    ];
  }
  return [
    '',
    `server-side dry run (as the requester): HTTP ${p.status}`,
    `  source: ${p.source ?? 'a dry run of the held request, run when you asked'}`,
    ...resultLines(d, p).map(indent),
  ];
}

function resultLines(d: PendingDetail, p: Preview): string[] {
  if (d.verb === 'delete') return deleteResultLines(d, p);
  if (d.verb === 'create') return createResultLines(d, p);
  return diffResultLines(d, p);
}

/** A create: the object as it would be stored, defaults included (once, when it is the decoded body). */
function createResultLines(d: PendingDetail, p: Preview): string[] {
  if (isBinaryBody(d) && deepEqual(p.object, d.decoded))
    return ['result: the decoded object shown above (the apiserver filled in its defaults)'];
  return [
    `it would create: ${objectHeading(p.object, kubectlResource(d))} (defaults filled in)`,
    ...notableFields(p.object).map(indent),
  ];
}

/** An update, patch, scale or status change: the live object (or subresource) -> the result. */
function diffResultLines(d: PendingDetail, p: Preview): string[] {
  if (d.subresource === 'scale' && p.live === undefined) {
    // without the live Scale, the parent's spec.replicas is what a Scale reports
    const before = getIn(d.oldObject, ['spec', 'replicas']);
    const after = getIn(p.object, ['spec', 'replicas']);
    return [
      'live spec.replicas -> result (kubegate sent no live Scale):',
      ...changeLines(d, diffValues(before, after, 'spec.replicas')),
    ];
  }
  const changes = diffValues(p.live ?? d.oldObject ?? null, p.object ?? null);
  return [`${liveName(d, p)} -> result:`, ...changeLines(d, changes)];
}

function changeLines(d: PendingDetail, changes: Change[]): string[] {
  const shown = changes.filter((c) => !volatile(c.path, d));
  return shown.length ? shown.map((c) => indent(renderChange(c))) : ['  (no change to the object)'];
}

/** A scale is compared with the live Scale; a status change with the live object (its status included). */
function liveName(d: PendingDetail, p: Preview): string {
  return p.live !== undefined && d.subresource === 'scale' ? 'live Scale' : 'live object';
}

/** A delete: the object that goes away, and for a Namespace what goes with it. */
function deleteResultLines(d: PendingDetail, p: Preview): string[] {
  const gone = deletedObject(d, p);
  const lines = gone
    ? [`it would delete: ${objectHeading(gone, kubectlResource(d))}`, ...notableFields(gone).map(indent)]
    : ['it would delete: (the object could not be read)'];
  const pending = getIn(p.object, ['metadata', 'deletionTimestamp']);
  if (pending !== undefined && isObj(p.object) && p.object.kind !== 'Status')
    lines.push('(marked for deletion: it goes once its finalizers are done)');
  if (isNamespaceDelete(d)) return [...lines, ...namespaceContentLines(d.name, p)];
  return p.contents ? [...lines, ...cascadeLines(p.contents)] : lines;
}

/** A workload's delete cascades to what its selector matches (unless orphaning). */
function cascadeLines(contents: Record<string, number | string>): string[] {
  return [
    'and what it owns, deleted with it (what its label selector matches now, as the requester sees it):',
    ...Object.entries(contents).map(([kind, n]) => `  ${kind}: ${n}`),
  ];
}

function namespaceContentLines(ns: string, p: Preview): string[] {
  if (!p.contents) return [`and everything in namespace ${ns}: kubegate sent no counts`];
  const entries = Object.entries(p.contents);
  if (!entries.length) return [`and everything in namespace ${ns}: none of the kinds kubegate counts`];
  return [
    `and everything in namespace ${ns} (kinds kubegate counts, as the requester sees them):`,
    ...entries.map(([kind, n]) => `  ${kind}: ${n}`),
  ];
}

import YAML from 'yaml';
import type { PendingDetail } from '../wire/request-view.js';
import { DELETE_OPTION_PARAMS } from '../wire/verbs.js';
import {
  type BinaryBody,
  createdName,
  describeAction,
  formatQuery,
  isBinaryBody,
  kubectlResource,
  objectRef,
  shownBody,
} from './describe.js';
import { type Change, diffValues, mergePatchChanges, renderChange } from './diff.js';
import { jsonPatchView } from './jsonpatch.js';
import { notableFields } from './summary.js';
import { formatValue, getIn, isObj } from './values.js';

/** What a held request would change, ready to print, plus the field changes the rollback plan undoes. */
export interface ChangeSet {
  title: string;
  lines: string[];
  changes: Change[];
  notes: string[];
}

/** Server-maintained metadata: an update that omits them leaves them as they are. */
const SERVER_KEPT = new Set([
  'metadata.uid',
  'metadata.creationTimestamp',
  'metadata.generation',
  'metadata.resourceVersion',
  'metadata.managedFields',
  'metadata.selfLink',
  'status',
]);
const COLLAPSE = new Set(['metadata.managedFields']);

const NO_LIVE = 'kubegate could not read the live object, so only the request itself is shown';

function yamlLines(v: unknown): string[] {
  return YAML.stringify(v ?? null, { lineWidth: 0 })
    .trimEnd()
    .split('\n');
}

function fieldLines(changes: Change[]): string[] {
  return changes.length
    ? changes.map(renderChange)
    : ['(no field changes: every field it sets already has that value)'];
}

/** Shows any held request as a change to the live object: a diff, a body, or what goes away. */
export function describeChange(d: PendingDetail): ChangeSet {
  if (isBinaryBody(d)) return binaryBodyChange(d);
  if (d.verb === 'create') return createChange(d);
  if (d.verb === 'delete') return deleteChange(d);
  if (d.verb === 'deletecollection') return deleteCollectionChange(d);
  if (d.verb === 'connect') return connectChange(d);
  if (d.verb === 'patch') return patchChange(d);
  if (d.verb === 'update') return updateChange(d);
  return {
    title: describeAction(d),
    lines: d.body == null ? ['(no body)'] : yamlLines(d.body),
    changes: [],
    notes: [],
  };
}

function createChange(d: PendingDetail): ChangeSet {
  return { title: createTitle(d), lines: yamlLines(d.body), changes: [], notes: [] };
}

/** "creates deployments.apps default/web", or "default/web-* (generated name)" when the apiserver names it. */
function createTitle(d: PendingDetail): string {
  if (d.subresource) return `creates ${d.resource}/${d.subresource} for ${objectRef(d)}`;
  const name = createdName(d);
  if (name) return `creates ${kubectlResource(d)} ${objectRef(d, name)}`;
  const generate = getIn(shownBody(d), ['metadata', 'generateName']);
  return `creates ${kubectlResource(d)} ${objectRef(d, `${typeof generate === 'string' ? generate : ''}*`)} (generated name)`;
}

/**
 * A binary (protobuf, CBOR) body is shown as the apiserver decoded it, like a JSON one; a create
 * by what matters in the object (every field: `show -o json`). Without a decode it cannot be shown.
 */
function binaryBodyChange(d: PendingDetail & { body: BinaryBody }): ChangeSet {
  const note = `the body is ${d.contentType} (sha256 ${d.body.sha256}); shown as the apiserver decoded it in a dry run as the requester`;
  if (d.decoded === undefined) {
    return {
      title: `${d.verb} of ${kubectlResource(d)} ${objectRef(d, d.name || '*')}: the body CANNOT BE SHOWN`,
      lines: [`the ${d.contentType} body (sha256 ${d.body.sha256}) came without a decoded form`],
      changes: [],
      notes: [],
    };
  }
  if (d.verb !== 'create' || d.subresource) {
    const change = describeChange({ ...d, body: d.decoded });
    return { ...change, notes: [note, ...change.notes] };
  }
  const kind = getIn(d.decoded, ['kind']);
  return {
    title: `${createTitle(d)}${typeof kind === 'string' ? ` (a ${kind})` : ''}`,
    lines: notableFields(d.decoded),
    changes: [],
    notes: [note, 'every field of it: approve-cli show ID -o json (detail.decoded)'],
  };
}

function deleteChange(d: PendingDetail): ChangeSet {
  const lines: string[] = [];
  const live = d.oldObject;
  const md = getIn(live, ['metadata']);
  if (isObj(live) && isObj(md)) {
    const kind = typeof live.kind === 'string' ? live.kind : kubectlResource(d);
    lines.push(
      `${kind} ${objectRef(d)} (uid ${String(md.uid)}, resourceVersion ${String(md.resourceVersion)})`,
    );
    if (typeof md.creationTimestamp === 'string') lines.push(`created ${md.creationTimestamp}`);
    if (isObj(md.labels) && Object.keys(md.labels).length) lines.push(`labels: ${formatValue(md.labels)}`);
    const replicas = getIn(live, ['spec', 'replicas']);
    if (replicas !== undefined) lines.push(`spec.replicas: ${formatValue(replicas)}`);
    if (Array.isArray(md.ownerReferences) && md.ownerReferences.length) {
      const owners = md.ownerReferences.filter(isObj).map((o) => `${String(o.kind)}/${String(o.name)}`);
      lines.push(`owned by: ${owners.join(', ')}`);
    }
    if (Array.isArray(md.finalizers) && md.finalizers.length)
      lines.push(`finalizers: ${formatValue(md.finalizers)}`);
    if (isObj(live.data)) lines.push(`data keys: ${Object.keys(live.data).join(', ') || '(none)'}`);
  } else {
    lines.push(
      `${kubectlResource(d)} ${objectRef(d)}: the live object could not be read (the API server may answer NotFound)`,
    );
  }
  const opts = deleteOptions(d);
  if (opts) lines.push(`options: ${opts}`);
  return { title: `deletes ${kubectlResource(d)} ${objectRef(d)}`, lines, changes: [], notes: [] };
}

/**
 * The DeleteOptions that apply: every field of the body when there is one (the API server then
 * ignores the query, and kubegate refuses options in both), else those in the query.
 */
export function deleteOptions(d: PendingDetail): string {
  const entries: [string, unknown][] = isObj(d.body)
    ? Object.entries(d.body).filter(([k]) => k !== 'kind' && k !== 'apiVersion')
    : DELETE_OPTION_PARAMS.filter((k) => k !== 'dryRun')
        .map((k): [string, unknown] => [k, d.query[k]?.[0]])
        .filter(([, v]) => v !== undefined);
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : formatValue(v)}`).join(' ');
}

function deleteCollectionChange(d: PendingDetail): ChangeSet {
  const selectors = ['labelSelector', 'fieldSelector']
    .map((k) => (d.query[k]?.[0] ? `${k}=${d.query[k][0]}` : ''))
    .filter(Boolean);
  const scope = d.namespace ? `in namespace ${d.namespace}` : 'in every namespace (or cluster-wide)';
  const lines = [selectors.length ? `matching ${selectors.join(' ')}` : 'matching EVERYTHING (no selector)'];
  const opts = deleteOptions(d);
  if (opts) lines.push(`options: ${opts}`);
  return { title: `deletes every ${kubectlResource(d)} ${scope}`, lines, changes: [], notes: [] };
}

/** exec, attach, port-forward, proxy: no dry run exists, so the request is shown whole. */
function connectChange(d: PendingDetail): ChangeSet {
  const lines: string[] = [];
  if (d.subresource === 'proxy') lines.push(`${d.proxyMethod ?? 'GET/POST'} ${d.path}`);
  for (const k of ['container', 'command', 'stdin', 'stdout', 'tty', 'ports']) {
    const v = d.query[k];
    if (v?.length) lines.push(`${k}: ${k === 'command' ? formatValue(v) : v.join(', ')}`);
  }
  if (d.subresource === 'proxy' && Object.keys(d.query).length) lines.push(`query: ${formatQuery(d.query)}`);
  if (d.body != null) lines.push('body:', ...yamlLines(d.body).map((l) => `  ${l}`));
  if (!lines.length) lines.push('(no parameters)');
  return {
    title: `${d.subresource || 'connect'} into ${d.resource} ${objectRef(d)}`,
    lines,
    changes: [],
    notes: [],
  };
}

function patchChange(d: PendingDetail): ChangeSet {
  const live = d.oldObject;
  const notes: string[] = [];
  if (!isObj(live)) notes.push(NO_LIVE);
  const base = isObj(live) ? live : undefined;
  const target = `${kubectlResource(d)}${d.subresource ? `/${d.subresource}` : ''} ${objectRef(d)}`;
  switch (d.contentType) {
    case 'application/json-patch+json': {
      const v = jsonPatchView(base, d.body);
      notes.push('operations run in order; the values shown are the live ones before the patch');
      return { title: `json-patch of ${target}: operations`, lines: v.lines, changes: v.changes, notes };
    }
    case 'application/merge-patch+json': {
      const changes = mergePatchChanges(base, d.body, false);
      return {
        title: `merge patch of ${target}: fields it sets, against their current values`,
        lines: fieldLines(changes),
        changes,
        notes,
      };
    }
    case 'application/strategic-merge-patch+json': {
      const changes = mergePatchChanges(base, d.body, true);
      return {
        title: `strategic merge patch of ${target}: fields it sets, against their current values`,
        lines: fieldLines(changes),
        changes,
        notes,
      };
    }
    case 'application/apply-patch+yaml': {
      const changes = mergePatchChanges(base, d.body, true);
      notes.push(
        `server-side apply (fieldManager ${d.query.fieldManager?.[0] ?? 'unset'}): fields this manager applied before and omits now are removed too`,
      );
      if (d.query.force?.[0] === 'true') notes.push('force=true: takes fields over from other managers');
      return {
        title: `server-side apply to ${target}: fields it sets, against their current values`,
        lines: fieldLines(changes),
        changes,
        notes,
      };
    }
    default:
      return {
        title: `patch (${d.contentType || 'no content type'}) of ${target}`,
        lines: yamlLines(d.body),
        changes: [],
        notes,
      };
  }
}

function updateChange(d: PendingDetail): ChangeSet {
  const live = d.oldObject;
  const target = `${kubectlResource(d)}${d.subresource ? `/${d.subresource}` : ''} ${objectRef(d)}`;
  if (!isObj(live))
    return {
      title: `update of ${target}: the new object`,
      lines: yamlLines(d.body),
      changes: [],
      notes: [NO_LIVE],
    };
  const notes: string[] = [];
  let changes: Change[];
  if (d.subresource === 'status') {
    changes = diffValues(live.status, getIn(d.body, ['status']), 'status');
  } else if (d.subresource === 'scale') {
    const next = getIn(d.body, ['spec', 'replicas']);
    changes = diffValues(getIn(live, ['spec', 'replicas']), next, 'spec.replicas');
  } else {
    changes = diffValues(live, d.body, '', { collapse: COLLAPSE, serverKept: SERVER_KEPT });
    if (
      changes.some((c) => c.path === 'status' || c.path.startsWith('status.') || c.path.startsWith('status['))
    ) {
      notes.push(
        'status changes in an update of the object itself are ignored by the API server for most resources',
      );
    }
  }
  const sentRv = getIn(d.body, ['metadata', 'resourceVersion']);
  const liveRv = getIn(live, ['metadata', 'resourceVersion']);
  if (sentRv === undefined || sentRv === '')
    notes.push('the update carries no resourceVersion: it overwrites whatever is live when it runs');
  else if (sentRv !== liveRv)
    notes.push(
      `written against resourceVersion ${formatValue(sentRv)}, live is ${formatValue(liveRv)}: the API server will answer Conflict`,
    );
  return {
    title: `update of ${target}: field diff against the live object`,
    lines: fieldLines(changes),
    changes,
    notes,
  };
}

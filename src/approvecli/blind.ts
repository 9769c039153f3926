// No blind approvals: what approve-cli cannot show of a held request, and why. Anything listed
// here makes `approve` refuse unless the approver says --blind (and the token then says so).
import type { Preview } from '../wire/preview.js';
import type { PendingDetail } from '../wire/request-view.js';
import { isBinaryBody } from './describe.js';
import { isObj } from './values.js';

export interface BlindSpot {
  /** What the approver does not get to see. */
  what: string;
  why: string;
}

/** A request of an approval and what of it cannot be shown. */
export interface BlindRequest {
  id: string;
  spots: BlindSpot[];
}

/** The dry run's result is the only view of what a change does to the cluster. */
const RESULT = 'the result of the change (server-side dry run)';

/** exec, attach, port-forward, proxy: no dry run exists, and the request itself is all there is to see. */
export function hasNoDryRun(d: PendingDetail): boolean {
  return d.verb === 'connect';
}

export function refused(p: Preview): boolean {
  return p.status === undefined || p.status < 200 || p.status >= 300;
}

/** Everything about a held request that cannot be shown; empty when the approver sees it all. */
export function blindSpots(d: PendingDetail, preview: Preview | undefined): BlindSpot[] {
  return [...bodySpots(d), ...(hasNoDryRun(d) ? [] : previewSpots(d, preview))];
}

function bodySpots(d: PendingDetail): BlindSpot[] {
  if (!isBinaryBody(d) || d.decoded !== undefined) return [];
  return [
    {
      what: `the request body (${d.contentType}, sha256 ${d.body.sha256})`,
      why: 'kubegate sent only its hash, no decoded form of it',
    },
  ];
}

function previewSpots(d: PendingDetail, p: Preview | undefined): BlindSpot[] {
  if (!p) return [{ what: RESULT, why: 'it was not fetched' }];
  if (!p.available) return [{ what: RESULT, why: `not available: ${p.reason ?? 'kubegate gave no reason'}` }];
  if (refused(p)) {
    const why = `the apiserver refused the dry run (HTTP ${p.status ?? 'unknown'}${p.message ? `: ${p.message}` : ''})`;
    return [{ what: RESULT, why }];
  }
  if (d.verb === 'delete') return [...deletedSpots(d, p), ...namespaceSpots(d, p)];
  return isObj(p.object) ? [] : [{ what: RESULT, why: 'the dry run answered without the resulting object' }];
}

/** The object a delete takes away: the live one kubegate read, else the dry run's answer. */
export function deletedObject(d: PendingDetail, p: Preview): unknown {
  if (isObj(d.oldObject)) return d.oldObject;
  return isObj(p.object) && p.object.kind !== 'Status' ? p.object : undefined;
}

function deletedSpots(d: PendingDetail, p: Preview): BlindSpot[] {
  if (deletedObject(d, p) !== undefined) return [];
  return [{ what: 'the object it deletes', why: 'neither kubegate nor the dry run returned it' }];
}

export function isNamespaceDelete(d: PendingDetail): boolean {
  return d.verb === 'delete' && d.resource === 'namespaces' && !d.group;
}

function namespaceSpots(d: PendingDetail, p: Preview): BlindSpot[] {
  if (!isNamespaceDelete(d)) return [];
  const holds = `namespace ${d.name} holds (deleted with it)`;
  if (!p.contents) return [{ what: `what ${holds}`, why: 'kubegate sent no counts' }];
  const unreadable = Object.entries(p.contents)
    .filter(([, n]) => typeof n !== 'number')
    .map(([kind]) => kind);
  if (!unreadable.length) return [];
  return [{ what: `how many ${unreadable.join(', ')} ${holds}`, why: 'not readable as the requester' }];
}

export function spotLine(s: BlindSpot): string {
  return `${s.what} cannot be shown: ${s.why}`;
}

/** Why `approve` refuses: each request, what of it cannot be shown, and the way to approve anyway. */
export function blindRefusal(blind: BlindRequest[]): string {
  const each = blind.map(
    ({ id, spots }) => `${id} cannot be approved without --blind: ${spots.map(spotLine).join('; ')}.`,
  );
  const see = blind.length === 1 ? `\`approve-cli show ${blind[0]!.id}\`` : '`approve-cli show ID` for each';
  return `${each.join(' ')} See ${see}; add --blind to approve anyway (the approval is recorded as blind).`;
}

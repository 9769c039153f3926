import type { Preview } from '../wire/preview.js';
import type { PendingDetail } from '../wire/request-view.js';
import { type BlindSpot, blindSpots } from './blind.js';
import { describeChange } from './change.js';
import { describeAction, formatQuery, httpMethod, isBinaryBody } from './describe.js';
import { dryRunLines } from './dryrun.js';
import { movedLines } from './moved.js';
import { rollbackPlan } from './rollback.js';
import { withoutSecretValues } from './secret-values.js';
import type { FreezeState, PendingList, PendingView } from './types.js';

/** kubectl-style age: 45s, 12m, 5h, 3d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function freezeLine(f: FreezeState): string {
  if (!f.on) return 'freeze: off';
  const since = f.at ? ` since ${new Date(f.at).toISOString()}` : '';
  return `freeze: ON${f.by ? ` by ${f.by}` : ''}${since}${f.reason ? ` (${f.reason})` : ''}`;
}

/** A pending request no longer held open waits for approval, then for its requester to run it again. */
export function statusOf(
  p: { status: string; createdAt: number },
  holdSeconds: number | undefined,
  now: number,
): string {
  if (p.status !== 'pending' || holdSeconds === undefined || now - p.createdAt <= holdSeconds * 1000)
    return p.status;
  return 'pending (re-run after approval)';
}

export function renderList(list: PendingList, now: number): string {
  const out: string[] = [];
  if (list.freeze.on)
    out.push(`*** FROZEN: kubegate refuses every change. ${freezeLine(list.freeze)} ***`, '');
  if (!list.items.length) {
    out.push('no pending requests');
    return `${out.join('\n')}\n`;
  }
  // with several clusters behind kubegate, each request's cluster is a column of its own
  const several = (list.clusters?.length ?? 0) > 1;
  const rows = [
    ['ID', ...(several ? ['CLUSTER'] : []), 'AGE', 'REQUESTER', 'RISK', 'ACTION', 'STATUS', 'CONFLICTS'],
  ];
  for (const p of list.items) {
    rows.push([
      p.id,
      ...(several ? [p.detail.cluster || '-'] : []),
      age(now - p.createdAt),
      p.requester,
      p.risk,
      describeAction(p.detail),
      statusOf(p, list.holdSeconds, now),
      p.conflicts.length ? p.conflicts.join(',') : '-',
    ]);
  }
  out.push(table(rows));
  return `${out.join('\n')}\n`;
}

/** The one-line summary shown before approving: risk, action, reasons. */
export function summaryLine(p: PendingView): string {
  return `${p.id}: ${p.risk} ${describeAction(p.detail)} by ${p.requester}${p.reasons.length ? ` (${p.reasons.join('; ')})` : ''}`;
}

function requestLines(d: PendingDetail): string[] {
  const lines = [`  ${d.proxyMethod ?? httpMethod(d.verb)} (${d.verb}) ${d.path}`];
  const q = formatQuery(d.query);
  if (q) lines.push(`  query:        ${q}`);
  if (d.contentType) lines.push(`  content type: ${d.contentType}`);
  if (isBinaryBody(d)) {
    const shown = d.decoded !== undefined ? 'decoded below' : 'NOT DECODED: it cannot be shown';
    lines.push(`  body:         binary, sha256 ${d.body.sha256} (${shown})`);
  }
  if (d.impersonate) {
    const i = d.impersonate;
    const as = [
      i.user !== null ? `user ${i.user}` : '',
      i.uid !== null ? `uid ${i.uid}` : '',
      ...i.groups.map((g) => `group ${g}`),
      ...Object.entries(i.extra).map(([k, v]) => `extra ${k}=${v.join(',')}`),
    ].filter(Boolean);
    lines.push(`  RUNS AS:      ${as.join(', ')} (Impersonate-* headers)`);
  }
  if (d.dry_run_first) lines.push('  policy asks for a server-side dry run first');
  return lines;
}

/** What of the request cannot be shown, in capitals: approving it needs --blind. */
function blindLines(spots: BlindSpot[]): string[] {
  if (!spots.length) return [];
  return [
    '',
    'CANNOT BE SHOWN (approve refuses it without --blind):',
    ...spots.map((s) => `  - ${s.what}: ${s.why}`),
  ];
}

function liveVersion(p: PendingView): string {
  const rv = p.detail.resourceVersion;
  if (!rv) return '(none read)';
  return p.moved
    ? `resourceVersion ${rv} (MOVED since held at ${p.moved.heldAt ?? '(none)'})`
    : `resourceVersion ${rv}`;
}

/** Who approved so far, against what the request needs; approvals of an older version may not count. */
function approvalLines(p: PendingView, now: number): string[] {
  const d = p.detail;
  const out: string[] = [];
  const approvers = [...new Set(p.approvals.map((a) => a.approver))];
  const overrides = p.approvals.filter((a) => a.override);
  out.push(
    `approvals:   ${approvers.length} of ${d.approvals_required} present` +
      `${d.approvals_required > 1 ? ' (from different approvers)' : ''}` +
      `${d.override_required ? `; override REQUIRED (${overrides.length ? 'present' : 'none yet'})` : ''}` +
      `${p.moved && approvers.length ? '; the object MOVED since: they may not count (see the note)' : ''}`,
  );
  out.push(...groupLines(p));
  for (const a of p.approvals) {
    const left = typeof a.exp === 'number' ? `, expires in ${age(a.exp * 1000 - now)}` : '';
    out.push(
      `  - ${a.approver}${a.override ? ` OVERRIDE: ${a.reason}` : a.reason ? ` (${a.reason})` : ''}${left}`,
    );
  }
  if (p.moved && p.approvals.length)
    out.push(
      `  note: approvals signed before the object moved may no longer count: each is bound to the resourceVersion its approver saw (now ${p.moved.now})`,
    );
  return out;
}

/** Approver scopes: the groups the policy named, and those no approval covers yet. */
function groupLines(p: PendingView): string[] {
  const groups = p.detail.approvals_from ?? [];
  if (!groups.length) return [];
  const needed = p.groups_needed ?? groups;
  return [
    `  approver groups: one approver from each of ${groups.join(', ')}; ${needed.length ? `still needed: ${needed.join(', ')}` : 'all covered'}`,
  ];
}

/** Everything an approver needs to decide: who, what, why, the diff, the way back. `fingerprint` is the verified one. */
export function renderShow(p: PendingView, now: number, fingerprint: string, preview?: Preview): string {
  const d = p.detail;
  const out: string[] = [];
  out.push(`${p.id}   ${p.status}, ${age(now - p.createdAt)} old`);
  out.push(`cluster:     ${p.detail.cluster}`);
  out.push(`requester:   ${p.requester}`);
  out.push(`risk:        ${p.risk}`);
  for (const r of p.reasons) out.push(`  - ${r}`);
  out.push(`action:      ${describeAction(d)}`);
  out.push('request:', ...requestLines(d));
  out.push(`fingerprint: ${fingerprint} (recomputed here: matches)`);

  out.push(...approvalLines(p, now));
  out.push(
    `conflicts:   ${p.conflicts.length ? `${p.conflicts.join(', ')} (same object; only one of them can run)` : 'none'}`,
  );
  out.push(`live object: ${liveVersion(p)}`);
  if (d.policy) out.push(`policy:      ${d.policy}`);
  if (p.message) out.push(`message:     ${p.message}`);
  out.push(...movedLines(p));

  const change = describeChange(withoutSecretValues(d));
  out.push('', `change: ${change.title}`, ...change.lines.map((l) => `  ${l}`));
  for (const n of change.notes) out.push(`  note: ${n}`);
  out.push(...dryRunLines(d, preview));
  out.push(...blindLines(blindSpots(d, preview)));
  out.push('', 'rollback plan:', ...rollbackPlan(p.id, d, change).map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}

import { readFileSync } from 'node:fs';
import { type Decision, wouldHave } from './decision.js';
import type { PolicyEngine } from './engine.js';
import { completeInput } from './eval-input.js';
import type { PolicyInput } from './input.js';

/** Events that carry a decision (with the policy input kubegate recorded). */
const DECIDED = new Set(['held', 'blocked', 'forwarded']);

export interface ReplayCounts {
  /** Past requests with a recorded policy input (one per request id). */
  requests: number;
  changed: number;
  /** Passed without approval then, would be held (or denied) now. */
  wouldHold: number;
  /** Needed approval then, would pass without now. */
  wouldRelease: number;
  /** Would be denied outright now. */
  wouldDeny: number;
  /** Rules in audit mode in the new policy would have held them. */
  auditModeWouldHold: number;
  errors: number;
  lines: string[];
}

type Rec = Record<string, unknown>;

/** The first decision on record for each request (a held request's later records repeat it). */
function decisionsOn(auditFile: string): Rec[] {
  const seen = new Set<string>();
  const out: Rec[] = [];
  for (const line of readFileSync(auditFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as Rec;
    if (!rec.policy_input || !DECIDED.has(String(rec.event))) continue;
    const id = String(rec.request_id);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(rec);
  }
  return out;
}

const needsApproval = (risk: unknown) => risk !== 'LOW';

/** Re-decides every past request on record under another policy and counts what would differ. */
export function replay(engine: PolicyEngine, auditFile: string): ReplayCounts {
  const c: ReplayCounts = {
    requests: 0,
    changed: 0,
    wouldHold: 0,
    wouldRelease: 0,
    wouldDeny: 0,
    auditModeWouldHold: 0,
    errors: 0,
    lines: [],
  };
  for (const rec of decisionsOn(auditFile)) {
    c.requests++;
    let next: Decision;
    try {
      const pi = rec.policy_input as Partial<PolicyInput>;
      next = engine.decide(completeInput({ ...pi, object: rec.body ?? null }));
    } catch (err) {
      c.errors++;
      c.lines.push(`${rec.request_id} ${rec.action}: ${rec.risk} -> ERROR (${(err as Error).message})`);
      continue;
    }
    count(c, rec, next);
  }
  return c;
}

function count(c: ReplayCounts, rec: Rec, next: Decision): void {
  const would = wouldHave(next);
  if (would && !needsApproval(next.risk) && needsApproval(would.risk)) c.auditModeWouldHold++;
  const nextRisk = next.deny.length ? `${next.risk}+deny` : next.risk;
  if (nextRisk === rec.risk) return;
  c.changed++;
  if (next.deny.length) c.wouldDeny++;
  else if (!needsApproval(rec.risk) && needsApproval(next.risk)) c.wouldHold++;
  else if (needsApproval(rec.risk) && !needsApproval(next.risk)) c.wouldRelease++;
  c.lines.push(
    `seq ${rec.seq} ${rec.request_id} ${rec.action} ${rec.resource}: ${rec.risk} -> ${nextRisk} (${[...next.reasons, ...next.deny].join('; ')})`,
  );
}

/** The summary a policy author reads first. */
export function replaySummary(c: ReplayCounts, version: string): string {
  return [
    `replayed ${c.requests} past requests under policy ${version.slice(0, 12)}:`,
    `  ${c.changed} would be classified differently`,
    `  ${c.wouldHold} passed without approval and would now be held`,
    `  ${c.wouldRelease} needed approval and would now pass`,
    `  ${c.wouldDeny} would now be denied`,
    `  ${c.auditModeWouldHold} would be held by rules in audit mode (once enforced)`,
    ...(c.errors ? [`  ${c.errors} could not be decided (errors above)`] : []),
    '(live objects are not in the log: rules that read oldObject are replayed without it)',
  ].join('\n');
}

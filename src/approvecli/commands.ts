import { writeFileSync } from 'node:fs';
import { generateApproverKey } from '../wire/approver-key.js';
import { isPlanId, planClusters } from '../wire/plan-view.js';
import type { Preview } from '../wire/preview.js';
import { printable } from '../wire/printable.js';
import { approvalClaims, newBatchId, progressLine } from './approve.js';
import type { Command } from './args.js';
import { type BlindRequest, blindRefusal, blindSpots, hasNoDryRun, spotLine } from './blind.js';
import type { KubegateClient, Signer } from './client.js';
import { CliError } from './errors.js';
import { movedNote } from './moved.js';
import { renderPlanList, renderPlanShow, verifyPlan } from './plan.js';
import { freezeLine, renderList, renderShow, summaryLine } from './render.js';
import type { PendingView } from './types.js';
import { verifyFingerprint } from './verify.js';

export interface Output {
  write(text: string): unknown;
}

/** What a command works with; the runner builds it, tests pass their own. */
export interface CommandContext {
  stdout: Output;
  stderr: Output;
  client: KubegateClient;
  signer: Signer;
  now: () => number;
  random: () => number;
  /** Ends a long-running command (watch) as Ctrl-C does; tests pass their own. */
  signal?: AbortSignal;
}

type Remote<C extends Command['cmd']> = Extract<Command, { cmd: C }>;

export async function keygen(
  cmd: Remote<'keygen'>,
  out: { stdout: Output; stderr: Output },
): Promise<number> {
  const { privateJwk, publicJwk } = await generateApproverKey(cmd.name).catch((err: Error) => {
    throw new CliError(err.message);
  });
  try {
    // never overwrite a key: losing one locks its approver out until the JWKS is edited
    writeFileSync(cmd.out, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST'
        ? `${cmd.out} already exists; refusing to overwrite a key`
        : `cannot write ${cmd.out}: ${code ?? (err as Error).message}`,
    );
  }
  out.stdout.write(`${JSON.stringify(publicJwk, null, 2)}\n`);
  out.stderr.write(
    `wrote ${cmd.name}'s private key to ${cmd.out} (mode 0600; keep it secret). ` +
      'Add the public key above to the "keys" list of the file kubegate\'s config names in approvers.jwks ' +
      '(approvers.jwks.json in `kubegate dev` and deploy/), with "groups": [...] for approver scopes. ' +
      'kubegate reloads that file when it changes and logs who was added.\n',
  );
  return 0;
}

export async function list(cmd: Remote<'list'>, ctx: CommandContext): Promise<number> {
  const all = await ctx.client.list();
  const mine = (c: string | undefined) => !cmd.cluster || c === cmd.cluster;
  const res = { ...all, items: all.items.filter((p) => mine(p.detail.cluster)) };
  const plans = (await ctx.client.listPlans()).filter((p) => planClusters(p).some(mine));
  ctx.stdout.write(
    cmd.output === 'json'
      ? `${JSON.stringify(res.items, null, 2)}\n`
      : renderList(res, ctx.now()) + renderPlanList(plans),
  );
  return 0;
}

async function showPlan(cmd: Remote<'show'>, ctx: CommandContext): Promise<number> {
  const plan = await ctx.client.getPlan(cmd.id);
  const fps = verifyPlan(plan, cmd.id);
  ctx.stdout.write(cmd.output === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : renderPlanShow(plan, fps));
  return 0;
}

/** One signature over the plan's step fingerprints, in order, recomputed here from what is shown. */
async function approvePlan(cmd: Remote<'approve'>, ctx: CommandContext): Promise<number> {
  const [id, ...more] = cmd.ids;
  if (more.length || !id) throw new CliError('approve one plan at a time');
  if (cmd.print) throw new CliError('a plan is approved through kubegate, not with a printed token');
  const plan = await ctx.client.getPlan(id);
  const fingerprints = verifyPlan(plan, id);
  const me = ctx.signer.approver;
  if (plan.status !== 'pending' && plan.status !== 'approved')
    throw new CliError(`${id} is ${plan.status}, not waiting for approval`);
  if (plan.requester === me)
    throw new CliError(`${me} requested ${id}; a requester cannot approve their own plan`);
  if (plan.proposedBy === me) throw new CliError(`${me} proposed ${id}; another approver approves it`);
  ctx.stderr.write(
    `${printable(`approving ${id} "${plan.title}": ${plan.steps.length} steps, ${plan.risk} risk`)}\n`,
  );
  for (const st of plan.steps)
    ctx.stderr.write(`${printable(`  ${st.index}. ${st.summary} (${st.risk})`)}\n`);
  const unseen = plan.steps.filter((st) => st.dryRun === null);
  if (unseen.length && !cmd.blind)
    throw new CliError(
      `${id}: what ${unseen.map((st) => `step ${st.index}`).join(', ')} result${unseen.length === 1 ? 's' : ''} in CANNOT BE SHOWN (no server-side dry run: an earlier step creates the object). Check the change itself in \`approve-cli show ${id}\`; approve with --blind to approve anyway`,
    );
  if (plan.override_required && !cmd.override)
    ctx.stderr.write(
      `note: ${id} needs an override; this approval carries none (add --override --reason TEXT)\n`,
    );
  const claims = {
    action: 'approve' as const,
    fingerprints,
    requestIds: [id],
    planId: id,
    risk: plan.risk,
    ...(cmd.override ? { override: true } : {}),
    ...(cmd.reason !== undefined ? { reason: cmd.reason } : {}),
    ...(unseen.length ? { blind: true } : {}),
  };
  const token = await ctx.signer.sign(claims, cmd.ttlSeconds, planClusters(plan));
  const after = await ctx.client.planAction(id, 'approve', token);
  const next =
    after.status === 'approved'
      ? `approved: the requester runs it with \`kubegate plan run ${id}\``
      : `still ${after.status}`;
  ctx.stdout.write(
    `approved ${id} (${after.approvals.length} approval${after.approvals.length === 1 ? '' : 's'} so far; ${next})\n`,
  );
  return 0;
}

/** Fetches a request and checks its fingerprint: nothing is shown or signed unless it matches. */
async function fetchVerified(
  ctx: CommandContext,
  id: string,
): Promise<{ view: PendingView; fingerprint: string }> {
  const view = await ctx.client.get(id);
  return { view, fingerprint: verifyFingerprint(view, id) };
}

/**
 * The apiserver's view of a request (kubegate's preview). A failed call is a preview that is not
 * available; a connect request (exec, proxy...) has none to fetch.
 */
async function fetchPreview(ctx: CommandContext, view: PendingView): Promise<Preview | undefined> {
  if (hasNoDryRun(view.detail)) return undefined;
  return ctx.client
    .dryRun(view.id)
    .catch(
      (err: Error): Preview => ({ available: false, reason: `kubegate did not send it: ${err.message}` }),
    );
}

export async function show(cmd: Remote<'show'>, ctx: CommandContext): Promise<number> {
  if (isPlanId(cmd.id)) return showPlan(cmd, ctx);
  const { view, fingerprint } = await fetchVerified(ctx, cmd.id);
  if (cmd.output === 'json') {
    ctx.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return 0;
  }
  const preview = await fetchPreview(ctx, view);
  ctx.stdout.write(renderShow(view, ctx.now(), fingerprint, preview));
  return 0;
}

type Verified = { view: PendingView; fingerprint: string };

/** Each request, verified, pending and not the approver's own: nothing is signed otherwise. */
async function fetchApprovable(ids: string[], ctx: CommandContext): Promise<Verified[]> {
  const requests: Verified[] = [];
  for (const id of ids) requests.push(await fetchVerified(ctx, id));
  for (const { view } of requests) {
    if (view.status !== 'pending')
      throw new CliError(`${view.id} is ${view.status}, not pending: nothing to approve`);
    if (view.requester === ctx.signer.approver) {
      throw new CliError(
        `${ctx.signer.approver} requested ${view.id}; a requester cannot approve their own request`,
      );
    }
  }
  return requests;
}

/**
 * What of each request cannot be shown (fetching its preview as `show` does). Refuses unless the
 * approver said --blind; returns what is approved blind.
 */
async function blindParts(
  requests: Verified[],
  cmd: Remote<'approve'>,
  ctx: CommandContext,
): Promise<BlindRequest[]> {
  const blind: BlindRequest[] = [];
  for (const { view } of requests) {
    const spots = blindSpots(view.detail, await fetchPreview(ctx, view));
    if (spots.length) blind.push({ id: view.id, spots });
  }
  if (blind.length && !cmd.blind) throw new CliError(blindRefusal(blind));
  return blind;
}

/** The lines an approver reads on stderr before the token is signed. */
function announce(
  requests: Verified[],
  blind: BlindRequest[],
  cmd: Remote<'approve'>,
  ctx: CommandContext,
): void {
  for (const { view } of requests) {
    ctx.stderr.write(`approving ${summaryLine(view)}\n`);
    for (const s of blind.find((b) => b.id === view.id)?.spots ?? [])
      ctx.stderr.write(`note: approving BLIND (--blind): ${view.id}: ${spotLine(s)}\n`);
    if (view.detail.override_required && !cmd.override) {
      ctx.stderr.write(
        `note: ${view.id} needs an override; this approval carries none (add --override --reason TEXT)\n`,
      );
    }
    if (view.conflicts.length)
      ctx.stderr.write(`note: ${view.id} conflicts with ${view.conflicts.join(', ')} (same object)\n`);
    const moved = movedNote(view);
    if (moved) ctx.stderr.write(`${moved}\n`);
  }
  if (cmd.blind && !blind.length)
    ctx.stderr.write('note: --blind: everything could be shown, so the approval is not marked blind\n');
}

export async function approve(cmd: Remote<'approve'>, ctx: CommandContext): Promise<number> {
  if (cmd.ids.some(isPlanId)) return approvePlan(cmd, ctx);
  const requests = await fetchApprovable(cmd.ids, ctx);
  const blind = await blindParts(requests, cmd, ctx);
  announce(requests, blind, cmd, ctx);
  const planId = cmd.plan ? newBatchId(new Date(ctx.now()), ctx.random) : undefined;
  const claims = approvalClaims({
    requests,
    override: cmd.override,
    ...(cmd.reason !== undefined ? { reason: cmd.reason } : {}),
    ...(planId ? { planId } : {}),
    blind: blind.length > 0,
  });
  const token = await ctx.signer.sign(
    claims,
    cmd.ttlSeconds,
    requests.map((r) => r.view.detail.cluster),
  );
  if (cmd.print) {
    ctx.stdout.write(`${token}\n`);
    ctx.stderr.write(
      `token printed, not sent: the requester can pass it in a Kubegate-Approval header${planId ? ` (plan ${planId})` : ''}\n`,
    );
    return 0;
  }
  return send(token, requests, cmd, planId, ctx);
}

/** Posts the token and says where each request stands; kubegate must confirm every one. */
async function send(
  token: string,
  requests: Verified[],
  cmd: Remote<'approve'>,
  planId: string | undefined,
  ctx: CommandContext,
): Promise<number> {
  const res = await ctx.client.approve(token);
  const done = new Set(Array.isArray(res?.approved) ? res.approved : []);
  for (const { view } of requests) {
    if (!done.has(view.id)) throw new CliError(`kubegate did not confirm the approval of ${view.id}`);
    ctx.stdout.write(
      `${progressLine(view, ctx.signer.approver, cmd.override)}${planId ? ` [${planId}]` : ''}\n`,
    );
  }
  return 0;
}

export async function reject(cmd: Remote<'reject'>, ctx: CommandContext): Promise<number> {
  if (isPlanId(cmd.id)) {
    const token = await ctx.signer.sign({ action: 'reject', requestIds: [cmd.id], reason: cmd.reason }, 60);
    const p = await ctx.client.planAction(cmd.id, 'reject', token);
    const what =
      p.status === 'running' ? 'stopping (the current step finishes, the rest are skipped)' : p.status;
    ctx.stdout.write(`${cmd.id} ${what}: ${cmd.reason}\n`);
    return 0;
  }
  await ctx.client.reject(cmd.id, cmd.reason);
  ctx.stdout.write(`rejected ${cmd.id}: ${cmd.reason}\n`);
  return 0;
}

export async function revoke(cmd: Remote<'revoke'>, ctx: CommandContext): Promise<number> {
  const { revoked } = await ctx.client.revoke(cmd.id);
  ctx.stdout.write(`revoked ${revoked} unused approval${revoked === 1 ? '' : 's'} of ${cmd.id}\n`);
  return 0;
}

export async function rollback(cmd: Remote<'rollback'>, ctx: CommandContext): Promise<number> {
  if (isPlanId(cmd.id)) {
    const token = await ctx.signer.sign({ action: 'rollback', requestIds: [cmd.id] }, 60);
    const p = await ctx.client.planAction(cmd.id, 'rollback', token);
    ctx.stdout.write(`${p.id}\n`);
    ctx.stderr.write(
      `the undo of ${cmd.id} is held as plan ${p.id} (${p.risk}, ${p.steps.length} steps):\n${p.steps.map((st) => `${printable(`  ${st.index}. ${st.summary}`)}\n`).join('')}` +
        `another approver approves it with \`approve-cli approve ${p.id}\`; ${p.requester} runs it with \`kubegate plan run ${p.id}\`\n`,
    );
    return 0;
  }
  const p = await ctx.client.rollback(cmd.id);
  ctx.stdout.write(`${p.id}\n`);
  ctx.stderr.write(
    [
      `rollback of ${p.rollback_of} is held for approval as ${p.id} (${p.risk}: ${p.reasons.join('; ')})`,
      `estimated effect: ${p.effect}`,
      'steps:',
      ...p.steps.map((s) => `  - ${s}`),
      `another approver runs it with: approve-cli approve ${p.id}${p.override_required ? ' --override --reason TEXT' : ''}`,
      '',
    ].join('\n'),
  );
  return 0;
}

export async function freeze(cmd: Remote<'freeze'>, ctx: CommandContext): Promise<number> {
  if (cmd.mode === 'status') {
    ctx.stdout.write(`${freezeLine(await ctx.client.freezeStatus())}\n`);
    return 0;
  }
  const on = cmd.mode === 'on';
  const { cancelled } = await ctx.client.setFreeze(on, cmd.reason);
  ctx.stdout.write(
    on
      ? `freeze ON: kubegate now refuses every change; ${cancelled} held request${cancelled === 1 ? '' : 's'} cancelled\n`
      : 'freeze off: changes go through the policy again\n',
  );
  return 0;
}

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHash } from '../../src/audit/chain.js';
import {
  type Approver,
  approverBrowser,
  artifacts,
  consoleUrl,
  enrol,
  enrolLink,
  inPage,
  launch,
  signIn,
  waitStatus,
} from './browser.js';
import {
  auditRecords,
  devEnv,
  dir,
  freshNamespace,
  kubectl,
  namespaceWithDeployment,
  requestIdIn,
  waitForPending,
} from './helpers.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });
const replicas = async (ns: string) =>
  (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout;

const deployment = namespaceWithDeployment;

function auditVerify(file: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['dist/cli/kubegate.js', 'audit', 'verify', file], (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

/** Opens a request's page in the console and approves it with the passkey. */
async function approveIn(a: Approver, id: string, opts: { override?: string } = {}): Promise<void> {
  await a.page.goto(`${consoleUrl()}/kubegate/ui/requests/${id}`);
  if (opts.override) {
    await a.page.locator('#override').check();
    await a.page.locator('#approve-reason').fill(opts.override);
  }
  await a.page.getByRole('button', { name: 'Approve with passkey' }).click();
  await waitStatus(a.page, /^(approved|refused)/);
}

/** What an approval binds to, as the console's page gets it: the fingerprint and the live version. */
function shown(a: Approver, id: string): Promise<{ fingerprint: string; resourceVersion: string }> {
  return a.page.evaluate(async (i) => {
    const res = await fetch(`/kubegate/ui/api/requests/${i}`);
    const r = (await res.json()) as { fingerprint: string; resource_version: string };
    return { fingerprint: r.fingerprint, resourceVersion: r.resource_version };
  }, id);
}

const shownVersion = (a: Approver) => a.page.locator('#show').getAttribute('data-resource-version');

let browser: Browser;
/** The scale request alice approved in the first story. */
let scaled = '';
let alice: Approver;
let bob: Approver;

describe('the approval console in a real browser, with passkeys', () => {
  beforeAll(async () => {
    browser = await launch();
    alice = await approverBrowser(browser, 'alice');
    bob = await approverBrowser(browser, 'bob');
    await enrol(alice, await enrolLink('alice'));
    await enrol(bob, await enrolLink('bob'));
    await signIn(alice);
    await signIn(bob);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("holds an agent's kubectl scale, shows it live with its diff, alice approves with her passkey, kubectl succeeds", async () => {
    const ns = await deployment('ui-scale');
    await alice.page.goto(`${consoleUrl()}/kubegate/ui/`);
    await alice.page.locator('h1', { hasText: 'Pending requests' }).waitFor();
    const run = kubectl(['scale', 'deployment', 'web', '--replicas=3', '-n', ns]);
    // live: the row appears without a reload
    const row = alice.page.locator('tr', { hasText: `${ns}/web` });
    await row.waitFor({ timeout: 8000 });
    expect(await row.textContent()).toContain('agent');
    await row.getByRole('link').click();
    const show = alice.page.locator('#show');
    await show.waitFor();
    expect(await show.textContent()).toMatch(/replicas/);
    expect(await show.textContent()).toMatch(/1\s*(→|->)\s*3/);
    const id = String(await alice.page.locator('h1').textContent()).split(' ')[0]!;
    await alice.page.getByRole('button', { name: 'Approve with passkey' }).click();
    expect(await waitStatus(alice.page, /^approved /)).toBe(`approved ${id}`);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    scaled = id;
    expect(await replicas(ns)).toBe('3');
    // the request page as the approver left it (taken after: kubectl waits only hold_seconds)
    await alice.page.screenshot({ path: path.join(artifacts, 'console-request.png'), fullPage: true });

    const approved = auditRecords().find((x) => x.request_id === id && x.event === 'approved');
    const pk = approved?.passkey as Record<string, unknown> & { claims: Record<string, unknown> };
    expect(approved?.approver).toBe('alice');
    expect(approved?.via).toBe('console');
    expect(pk.claims.fingerprints).toEqual([approved?.fingerprint]);
    expect(pk.claims).toMatchObject({ action: 'approve', sub: 'alice', aud: devEnv().KUBEGATE_CLUSTER });
    for (const k of ['credential_id', 'authenticator_data', 'client_data_json', 'signature'])
      expect(typeof pk[k]).toBe('string');
    expect(JSON.parse(Buffer.from(String(pk.client_data_json), 'base64url').toString()).origin).toBe(
      consoleUrl(),
    );
  });

  it('audit verify re-checks the stored assertion, and fails when one byte of it changes', async () => {
    const file = devEnv().KUBEGATE_AUDIT!;
    const ok = await auditVerify(file);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/[1-9]\d* passkey assertions re-checked/);

    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const at = lines.findIndex((l) => l.includes('"passkey":{'));
    const rec = JSON.parse(lines[at]!) as Record<string, unknown> & { passkey: { signature: string } };
    const sig = Buffer.from(rec.passkey.signature, 'base64url');
    sig[sig.length - 3]! ^= 0x01;
    rec.passkey.signature = sig.toString('base64url');
    // re-hash the chain from there on, so only the passkey check can notice
    const out = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    out[at] = rec;
    for (let i = at; i < out.length; i++) {
      const { hash: _h, ...rest } = out[i]!;
      rest.prev = i === 0 ? rest.prev : out[i - 1]!.hash;
      if (rest.event === 'checkpoint') rest.signed_hash = rest.prev;
      out[i] = { ...rest, hash: recordHash(rest) };
    }
    const tampered = path.join(dir, 'tampered-passkey.jsonl');
    writeFileSync(tampered, `${out.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const bad = await auditVerify(tampered);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(new RegExp(`FAILED at seq ${rec.seq}: passkey assertion`));
  });

  it("a CRITICAL delete needs alice's and bob's passkeys (and the override)", async () => {
    const victim = await freshNamespace('ui-crit');
    const first = await kubectl(['delete', 'namespace', victim, '--wait=false']);
    expect(first.stderr).toMatch(/CRITICAL risk/);
    const id = requestIdIn(first.stderr);
    await approveIn(alice, id, { override: 'decommission' });
    expect(await alice.page.locator('#status').textContent()).toBe(`approved ${id}`);
    const second = await kubectl(['delete', 'namespace', victim, '--wait=false']);
    expect(second.stderr).toMatch(/needs 2 approvals/);
    await approveIn(bob, id);
    expect(await bob.page.locator('#status').textContent()).toBe(`approved ${id}`);
    const done = await kubectl(['delete', 'namespace', victim, '--wait=false']);
    expect(done.code, done.stderr).toBe(0);
    const fwd = auditRecords().find((x) => x.request_id === id && x.event === 'forwarded');
    expect(fwd?.approvers).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it('a requester cannot approve their own request; an unregistered passkey cannot sign in', async () => {
    const ns = await deployment('ui-self');
    const own = await kubectl(['scale', 'deployment', 'web', '--replicas=2', '-n', ns], {
      kubeconfig: path.join(dir, 'alice.kubeconfig'),
    });
    const id = requestIdIn(own.stderr);
    await approveIn(alice, id);
    expect(await alice.page.locator('#status').textContent()).toMatch(
      /refused: alice requested .* cannot approve their own request/,
    );
    expect(auditRecords().some((x) => x.request_id === id && x.event === 'approved')).toBe(false);

    // the agent has no approver key, so no enrolment link: a passkey it made itself gets nowhere
    const agent = await approverBrowser(browser, 'agent');
    await agent.page.goto(`${consoleUrl()}/kubegate/ui/`);
    await agent.page.evaluate(() =>
      navigator.credentials.create({
        publicKey: {
          challenge: new Uint8Array(32),
          rp: { id: 'localhost', name: 'kubegate' },
          user: { id: new Uint8Array([1, 2, 3]), name: 'agent', displayName: 'agent' },
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
          authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        },
      }),
    );
    await agent.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect
      .poll(() => agent.page.locator('#status').textContent())
      .toMatch(/sign-in failed: .*not registered/);
    expect(auditRecords().some((x) => x.event === 'console_sign_in_failed')).toBe(true);

    // a sign-in that fails the origin check is refused and on record as a failed sign-in (a page
    // cannot forge its Origin; a call without the console's header fails the same check)
    const before = auditRecords().filter((x) => x.event === 'console_sign_in_failed').length;
    const foreign = await inPage(
      agent,
      '/kubegate/ui/api/signin/finish',
      { ticket: 'x' },
      { 'content-type': 'application/json' },
    );
    expect(foreign.status).toBe(403);
    // a flood of failed sign-ins is counted, and on record only a few times a minute
    for (let i = 0; i < 40; i++)
      expect((await inPage(agent, '/kubegate/ui/api/signin/finish', { ticket: `t${i}` })).status).toBe(401);
    const failed = auditRecords().filter((x) => x.event === 'console_sign_in_failed');
    expect(failed.slice(before).some((x) => String(x.message).match(/console page itself/))).toBe(true);
    expect(failed.length - before).toBeLessThanOrEqual(10);
    expect((await inPage(agent, '/kubegate/ui/api/challenge', { action: 'approve', id })).status).toBe(401);
    await agent.context.close();
  });

  it('an assertion replayed for another request, or replayed at all, is refused', async () => {
    const a = await deployment('ui-replay-a');
    const b = await deployment('ui-replay-b');
    const idA = requestIdIn((await kubectl(['scale', 'deployment', 'web', '--replicas=4', '-n', a])).stderr);
    const idB = requestIdIn((await kubectl(['scale', 'deployment', 'web', '--replicas=4', '-n', b])).stderr);
    let sent: { ticket: string; response: unknown } | undefined;
    alice.page.on('request', (r) => {
      if (r.url().endsWith('/kubegate/ui/api/act') && !sent) sent = JSON.parse(r.postData() ?? '{}');
    });
    await approveIn(alice, idA);
    expect(await alice.page.locator('#status').textContent()).toBe(`approved ${idA}`);
    expect(sent?.response).toBeTruthy();

    const challengeB = await inPage(alice, '/kubegate/ui/api/challenge', {
      action: 'approve',
      id: idB,
      ...(await shown(alice, idB)),
    });
    expect(challengeB.status).toBe(200);
    const forB = await inPage(alice, '/kubegate/ui/api/act', {
      ticket: challengeB.body.ticket,
      response: sent!.response,
    });
    expect(forB.status).toBe(401);
    expect(String(forB.body.message)).toMatch(/passkey assertion refused/);
    const again = await inPage(alice, '/kubegate/ui/api/act', sent);
    expect(again.status).toBe(401);
    expect(String(again.body.message)).toMatch(/already used or has expired/);
    await waitForPending(`${b}/deployments/web`);
    expect(auditRecords().some((x) => x.request_id === idB && x.event === 'approved')).toBe(false);
  });

  it('the session cookie alone approves nothing; cross-site calls are refused; the cookie is locked down', async () => {
    const ns = await deployment('ui-cookie');
    const id = requestIdIn((await kubectl(['scale', 'deployment', 'web', '--replicas=5', '-n', ns])).stderr);
    const { fingerprint, resourceVersion } = await shown(alice, id);
    const stale = await inPage(alice, '/kubegate/ui/api/challenge', {
      action: 'approve',
      id,
      fingerprint: 'sha256:0',
      resourceVersion,
    });
    expect(stale.status).toBe(409);
    const c = await inPage(alice, '/kubegate/ui/api/challenge', {
      action: 'approve',
      id,
      fingerprint,
      resourceVersion,
    });
    expect(c.status).toBe(200);
    const noAssertion = await inPage(alice, '/kubegate/ui/api/act', { ticket: c.body.ticket });
    expect(noAssertion.status).toBe(401);
    const api = await inPage(alice, '/kubegate/v1/approvals', { token: 'x' });
    expect(api.status).toBe(401);
    const noHeader = await inPage(
      alice,
      '/kubegate/ui/api/challenge',
      { action: 'approve', id },
      {
        'content-type': 'application/json',
      },
    );
    expect(noHeader.status).toBe(403);
    expect(auditRecords().some((x) => x.request_id === id && x.event === 'approved')).toBe(false);
    await waitForPending(`${ns}/deployments/web`);

    const [cookie] = await alice.context.cookies();
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    expect(
      auditRecords()
        .filter((x) => x.event === 'console_sign_in')
        .map((x) => x.approver),
    ).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it('rejects with a reason, proposes a rollback, and switches the freeze on and off, each with a passkey', async () => {
    const ns = await deployment('ui-reject');
    const id = requestIdIn((await kubectl(['scale', 'deployment', 'web', '--replicas=6', '-n', ns])).stderr);
    await bob.page.goto(`${consoleUrl()}/kubegate/ui/requests/${id}`);
    await bob.page.locator('#reject-reason').fill('not today');
    await bob.page.getByRole('button', { name: 'Reject with passkey' }).click();
    expect(await waitStatus(bob.page, /^(rejected|refused)/)).toBe(`rejected ${id}: not today`);
    const rejected = auditRecords().find((x) => x.request_id === id && x.event === 'rejected');
    expect(rejected).toMatchObject({ approver: 'bob', reason: 'not today', via: 'console' });

    await bob.page.goto(`${consoleUrl()}/kubegate/ui/requests/${scaled}`);
    await bob.page.getByRole('button', { name: 'Propose rollback' }).click();
    expect(await waitStatus(bob.page, /^(rollback|refused)/)).toMatch(
      new RegExp(`^rollback of ${scaled} is held for approval as req-`),
    );

    await alice.page.goto(`${consoleUrl()}/kubegate/ui/`);
    await alice.page.locator('#freeze-reason').fill('incident 42');
    await alice.page.getByRole('button', { name: 'Freeze: refuse every change' }).click();
    expect(await waitStatus(alice.page, /^(freeze|refused)/)).toMatch(
      /^freeze ON: kubegate now refuses every change/,
    );
    expect((await kubectl(['scale', 'deployment', 'web', '--replicas=2', '-n', ns])).stderr).toMatch(
      /kubegate is frozen \(emergency stop by alice: incident 42\)/,
    );
    await alice.page.getByRole('button', { name: 'Unfreeze' }).click();
    expect(await waitStatus(alice.page, /^freeze off/)).toBe(
      'freeze off: changes go through the policy again',
    );
    const freezes = auditRecords().filter((x) => x.event === 'freeze' || x.event === 'unfreeze');
    expect(freezes.map((x) => [x.event, x.approver, x.via])).toEqual([
      ['freeze', 'alice', 'console'],
      ['unfreeze', 'alice', 'console'],
    ]);
    const ok = await auditVerify(devEnv().KUBEGATE_AUDIT!);
    expect(ok.code, ok.out).toBe(0);
  });

  it('loads nothing from another host, under a strict CSP; a used enrolment link is refused; fits a phone', async () => {
    const origin = consoleUrl();
    expect(alice.requested.length).toBeGreaterThan(5);
    expect(alice.requested.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    const res = await alice.page.goto(`${origin}/kubegate/ui/`);
    expect(res?.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);

    // a second passkey for bob, on another device; the link works once
    const device = await approverBrowser(browser, 'bob');
    const link = await enrolLink('bob');
    await enrol(device, link);
    await device.page.goto('about:blank');
    await device.page.goto(link);
    await device.page.getByRole('button', { name: 'Enrol passkey' }).click();
    await waitStatus(device.page, /already used/);
    await device.context.close();

    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.goto(`${origin}/kubegate/ui/`);
    await alice.page.locator('h1', { hasText: 'Pending requests' }).waitFor();
    // recent decisions: the change alice approved ran
    expect(await alice.page.locator('#recent tr', { hasText: scaled }).textContent()).toMatch(/executed/);
    const overflow = await alice.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await alice.page.screenshot({ path: path.join(artifacts, 'console-phone.png') });
  });

  it('a stale request page cannot approve: it redraws when its object moves through kubegate, and is refused when the object moved behind it', async () => {
    const ns = await deployment('ui-stale');
    const r1 = requestIdIn((await kubectl(['scale', 'deployment', 'web', '--replicas=3', '-n', ns])).stderr);
    const patch = [
      'patch',
      'deployment',
      'web',
      '-n',
      ns,
      '--type',
      'merge',
      '-p',
      '{"spec":{"replicas":2}}',
    ];
    const r2 = requestIdIn((await kubectl(patch)).stderr);
    await alice.page.goto(`${consoleUrl()}/kubegate/ui/requests/${r2}`);
    await alice.page.locator('#show').waitFor();
    const first = await shownVersion(alice);
    expect(first).toMatch(/^\d+$/);

    // another request on the same object is approved and runs: alice's page redraws by itself
    await approveIn(bob, r1);
    const ran = await kubectl(['scale', 'deployment', 'web', '--replicas=3', '-n', ns]);
    expect(ran.code, ran.stderr).toBe(0);
    await expect.poll(() => shownVersion(alice), { timeout: 10_000 }).not.toBe(first);
    expect(await alice.page.locator('#show').textContent()).toMatch(/MOVED/);

    // the object moves outside kubegate (no event): the page is stale, and Approve is refused
    const drawn = await shownVersion(alice);
    expect((await admin(['annotate', 'deployment', 'web', '-n', ns, 'moved=yes'])).code).toBe(0);
    const movedTo = Number(
      (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']))
        .stdout,
    );
    await alice.page.getByRole('button', { name: 'Approve with passkey' }).click();
    expect(await waitStatus(alice.page, /^(approved|refused)/)).toMatch(
      new RegExp(
        `^refused: ${r2}: the object changed since you opened the page \\(resourceVersion ${drawn} -> \\d+.*reload and look again`,
      ),
    );
    expect(auditRecords().some((x) => x.request_id === r2 && x.event === 'approved')).toBe(false);

    // reloaded, the page shows the object as it is, and that is what alice approves
    await approveIn(alice, r2);
    expect(await alice.page.locator('#status').textContent()).toBe(`approved ${r2}`);
    const approved = auditRecords().find((x) => x.request_id === r2 && x.event === 'approved');
    const claims = (approved?.passkey as { claims: { resourceVersion?: string } }).claims;
    // signed for the object as it is after the edit (its status may move on by itself)
    expect(Number(claims.resourceVersion)).toBeGreaterThanOrEqual(movedTo);
  });

  it('shows bidi and other formatting characters in requester text escaped, never obeyed', async () => {
    const ns = await freshNamespace('ui-bidi');
    const made = await kubectl(['create', 'configmap', 'cfg', '-n', ns, '--from-literal=note=ok\u202Eevil']);
    const id = requestIdIn(made.stderr);
    await alice.page.goto(`${consoleUrl()}/kubegate/ui/requests/${id}`);
    const text = String(await alice.page.locator('#show').textContent());
    expect(text).toContain('\\u{202e}');
    expect(text).not.toContain('\u202E');
  });
});

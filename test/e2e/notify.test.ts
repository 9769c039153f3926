// Approvers are notified: a held kubectl change reaches a signed JSON webhook and a Slack-style
// webhook within a second; its approval and execution follow; and a receiver that was down is
// sent every event it missed once it is back (at-least-once, deduped on seq).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/dev/ports.js';
import {
  approveCli,
  dir,
  type ExtraKubegate,
  freshNamespace,
  kubectl,
  readAudit,
  startExtraKubegate,
} from './helpers.js';
import { Receiver, verify } from './notify-receiver.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });
const NOTIFIED = new Set(['held', 'approved', 'rejected', 'cancelled', 'executed', 'failed', 'rolled_back']);

let kg: ExtraKubegate;
let rx: Receiver;
let ns: string;
const secret = randomBytes(32).toString('hex');

/** Records of this kubegate's audit log that the webhook should get. */
function expectedSeqs(): number[] {
  return readAudit(kg.auditFile)
    .filter((r) => r.origin !== 'preview' && typeof r.request_id === 'string')
    .filter((r) => NOTIFIED.has(r.event as string) || (r.event === 'blocked' && r.status === 'pending'))
    .map((r) => r.seq as number);
}

/** A merge patch of the ConfigMap through the notifying kubegate (held until approved). */
function patch(value: string) {
  const p = JSON.stringify({ data: { k: value } });
  return kubectl([
    '--kubeconfig',
    kg.kubeconfig,
    'patch',
    'configmap',
    'cm',
    '-n',
    ns,
    '--type=merge',
    '-p',
    p,
  ]);
}

async function heldEvent(since: number) {
  await vi.waitFor(() => expect(rx.events.slice(since).some((e) => e.body.event === 'held')).toBe(true), {
    timeout: 20_000,
    interval: 20,
  });
  return rx.events.slice(since).find((e) => e.body.event === 'held')!;
}

beforeAll(async () => {
  ns = await freshNamespace('notify');
  expect((await admin(['create', 'configmap', 'cm', '-n', ns, '--from-literal=k=v0'])).code).toBe(0);
  const secretFile = path.join(dir, 'notify-e2e.secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  rx = new Receiver(await freePort(), secret);
  await rx.start();
  kg = await startExtraKubegate('notify', {
    notify: {
      webhook_url: `${rx.url}/events`,
      webhook_secret_file: secretFile,
      slack_webhook_url: `${rx.url}/slack`,
    },
    execution: { hold_seconds: 12 },
  });
});

afterAll(async () => {
  await kg?.stop();
  await rx?.stop();
});

describe('notifications', () => {
  it('a held kubectl patch is announced, signed, within 1 s; approve-cli approve → approved, executed', async () => {
    const run = patch('v1');
    const held = await heldEvent(0);
    const id = held.body.request_id;
    expect(held.at - Date.parse(held.body.timestamp)).toBeLessThan(1000);
    expect(held.body).toMatchObject({ risk: 'MEDIUM', user: 'agent', resource: `${ns}/configmaps/cm` });
    expect(held.verified).toBe(true);
    expect(verify('another-secret', held.signature, held.raw)).toBe(false);
    expect(rx.eventsFor(id).filter((e) => e.event === 'held')).toHaveLength(1);
    // Nothing beyond the listed fields (the patch body, policy input, fingerprint stay in the log).
    expect(Object.keys(held.body).sort()).toEqual(
      [
        'action',
        'event',
        'reasons',
        'replica',
        'request_id',
        'resource',
        'risk',
        'seq',
        'timestamp',
        'url',
        'user',
      ].sort(),
    );
    // the link target: the request's page in the approval console
    expect(held.body.url).toBe(`https://localhost:${new URL(kg.url).port}/kubegate/ui/requests/${id}`);

    await vi.waitFor(() => expect(rx.slack.some((m) => m.body.text.includes(id))).toBe(true), {
      timeout: 1000,
    });
    const slack = rx.slack.filter((m) => m.body.text.includes(id));
    expect(slack).toHaveLength(1);
    expect(slack[0]!.at - Date.parse(held.body.timestamp)).toBeLessThan(1000);
    expect(JSON.stringify(slack[0]!.body.blocks)).toContain(`approve-cli approve ${id}`);
    expect(slack[0]!.body.text).toContain(`/kubegate/ui/requests/${id}`);

    const ok = await approveCli(['approve', id], 'alice', kg.url);
    expect(ok.code, ok.stderr).toBe(0);
    const done = await run;
    expect(done.code, done.stderr).toBe(0);
    await vi.waitFor(
      () => expect(rx.eventsFor(id).map((e) => e.event)).toEqual(['held', 'approved', 'executed']),
      {
        timeout: 5000,
        interval: 20,
      },
    );
    expect(rx.eventsFor(id)[1]).toMatchObject({ approver: 'alice' });
    expect(rx.events.every((e) => e.verified)).toBe(true);
    const live = await admin(['get', 'configmap', 'cm', '-n', ns, '-o', 'jsonpath={.data.k}']);
    expect(live.stdout).toBe('v1');
  });

  it('a receiver that was down gets every event it missed once it is back on the same port', async () => {
    await rx.stop();
    const stoppedAt = Date.now();
    const before = rx.events.length;
    const first = patch('v2');
    const second = patch('v3');
    // Both are held (on record) while nobody listens; one is approved meanwhile.
    let ids: string[] = [];
    await vi.waitFor(
      () => {
        ids = heldIds().filter((id) => !rx.eventsFor(id).length);
        expect(ids).toHaveLength(2);
      },
      { timeout: 20_000, interval: 100 },
    );
    const ok = await approveCli(['approve', ids[0]!], 'alice', kg.url);
    expect(ok.code, ok.stderr).toBe(0);
    expect(rx.events.length).toBe(before);

    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - stoppedAt))));
    await rx.start();
    const back = Date.now();
    await vi.waitFor(
      () => {
        const got = rx.uniqueEvents();
        expect(expectedSeqs().filter((s) => !got.has(s))).toEqual([]);
        for (const id of ids) expect(rx.eventsFor(id).some((e) => e.event === 'held')).toBe(true);
        expect(rx.eventsFor(ids[0]!).some((e) => e.event === 'approved')).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(Date.now() - back).toBeLessThan(5000);
    for (const id of ids)
      expect(rx.slack.filter((m) => m.body.text.includes(id)).length).toBeGreaterThanOrEqual(1);
    expect(rx.events.every((e) => e.verified)).toBe(true);

    // Whichever of the two runs was approved succeeds; the other is refused after its hold.
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.code === 0).sort()).toEqual([false, true]);
    await vi.waitFor(() => {
      const got = rx.uniqueEvents();
      expect(expectedSeqs().filter((s) => !got.has(s))).toEqual([]);
    });
    expect(rx.eventsFor(ids[0]!).map((e) => e.event)).toContain('executed');
  });
});

/** Ids of requests on the ConfigMap held in this kubegate's audit log. */
function heldIds(): string[] {
  return readAudit(kg.auditFile)
    .filter((r) => r.event === 'held' && r.resource === `${ns}/configmaps/cm`)
    .map((r) => r.request_id as string);
}

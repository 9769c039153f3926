// A held request whose object changed since it was held (kubegate's `moved`): `show` says what moved
// and whether the request touches it, `approve` binds to the object as it is now and says it replaces.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { movedTouched, pathsOverlap } from '../../../src/approvecli/moved.js';
import { runApproveCli } from '../../../src/approvecli/run.js';
import type { HttpResponse } from '../../../src/approvecli/transport.js';
import type { PendingView } from '../../../src/approvecli/types.js';
import { generateApproverKey } from '../../../src/wire/approver-key.js';
import type { PendingDetail } from '../../../src/wire/request-view.js';
import {
  dryRunRoute,
  fakeTransport,
  liveDeployment,
  NOW,
  patchPreview,
  sink,
  tempDir,
  view,
} from './helpers.js';

let cleanup: () => Promise<void>;
let keyFile: string;

beforeEach(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  keyFile = join(dir, 'alice.jwk');
  writeFileSync(keyFile, JSON.stringify((await generateApproverKey('alice')).privateJwk), { mode: 0o600 });
});
afterEach(() => cleanup());

const ID = 'req-20261125-0007';
const ok = (body: unknown): HttpResponse => ({ status: 200, body });

async function run(argv: string[], routes: Record<string, HttpResponse>) {
  const stdout = sink();
  const stderr = sink();
  const transport = fakeTransport(routes);
  const code = await runApproveCli(argv, {
    stdout,
    stderr,
    env: { KUBEGATE_URL: 'https://kubegate.test:8443', APPROVE_KEY: keyFile },
    now: () => NOW,
    transport: () => transport,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), calls: transport.calls };
}

/** The Deployment after the scale (one of four held changes) ran: replicas, status and rv moved. */
const scaled = {
  ...liveDeployment,
  metadata: { ...liveDeployment.metadata, resourceVersion: '4300', generation: 2 },
  spec: { ...liveDeployment.spec, replicas: 3 },
  status: { replicas: 3 },
};

/** A held request as kubegate shows it once its object moved: the object now, and what it was. */
function movedView(d: Partial<PendingDetail>, over: Partial<PendingView> = {}): PendingView {
  return {
    ...view({ detail: { ...d, oldObject: scaled, resourceVersion: '4300' }, ...over }),
    moved: { heldAt: '4242', now: '4300', heldObject: liveDeployment },
  };
}

const setImage: Partial<PendingDetail> = {
  contentType: 'application/strategic-merge-patch+json',
  body: { spec: { template: { spec: { containers: [{ name: 'api', image: 'api:2.0' }] } } } },
};
const alice = { approver: 'alice', override: false, reason: '', exp: NOW / 1000 + 300 };

describe('show of a request whose object moved', () => {
  it('lists what moved (not status or bookkeeping), says the request does not touch it, and that approvals may lapse', async () => {
    const v = movedView(setImage, { approvals: [{ ...alice, approver: 'bob' }] });
    const r = await run(['show', ID], { [`GET /kubegate/v1/requests/${ID}`]: ok(v) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('live object: resourceVersion 4300 (MOVED since held at 4242)');
    expect(r.stdout).toContain(
      [
        'MOVED: the object changed since this request was held (resourceVersion 4242 -> 4300):',
        '  spec.replicas: 1 -> 3',
        '  this request does not touch what moved',
        '  an approval now is for resourceVersion 4300, the object as it is now (the change below is against it)',
      ].join('\n'),
    );
    expect(r.stdout).not.toMatch(/status\.replicas|metadata\.generation/);
    expect(r.stdout).toContain('1 of 1 present; the object MOVED since: they may not count (see the note)');
    expect(r.stdout).toContain('note: approvals signed before the object moved may no longer count');
    expect(r.stdout).toContain('spec.template.spec.containers[name=api].image: "api:1.0" -> "api:2.0"');
  });

  it('names the moved fields a request sets: a scale of its own, an update written against the old version', async () => {
    const scale = await run(['show', ID], {
      [`GET /kubegate/v1/requests/${ID}`]: ok(movedView({ body: { spec: { replicas: 5 } } })),
    });
    expect(scale.stdout).toContain('  this request TOUCHES fields that moved: spec.replicas');

    // kubectl replace with the object as read before the scale: it would put replicas back to 1
    const body = {
      ...liveDeployment,
      metadata: { ...liveDeployment.metadata, labels: { app: 'api', tier: 'web' } },
    };
    const update = await run(['show', ID], {
      [`GET /kubegate/v1/requests/${ID}`]: ok(
        movedView({ verb: 'update', contentType: 'application/json', body }),
      ),
    });
    expect(update.stdout).toContain('  this request TOUCHES fields that moved: spec.replicas');
    expect(update.stdout).toContain('  spec.replicas: 3 -> 1');
  });

  it('a request that sets a moved field to the value it moved to still touches it', () => {
    const v = movedView({ body: { spec: { replicas: 3 } } });
    expect(
      movedTouched(v.detail, v.moved!, [{ kind: 'set', path: 'spec.replicas', old: 1, new: 3 }]),
    ).toEqual(['spec.replicas']);
  });

  it('says when only server-managed fields moved', async () => {
    const v = {
      ...movedView(setImage),
      moved: { heldAt: '4242', now: '4300', heldObject: { ...scaled, status: {} } },
    };
    const r = await run(['show', ID], { [`GET /kubegate/v1/requests/${ID}`]: ok(v) });
    expect(r.stdout).toContain(
      '  only server-managed fields changed (status, resourceVersion...): nobody edited it',
    );
  });

  it('refuses a malformed moved', async () => {
    const r = await run(['show', ID], {
      [`GET /kubegate/v1/requests/${ID}`]: ok({ ...view(), moved: { heldAt: 1 } }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/malformed answer: request.moved.heldAt is not a string/);
  });
});

describe('field paths overlap', () => {
  it('when one lies inside the other; a list position may be any keyed item', () => {
    expect(pathsOverlap('spec.replicas', 'spec.replicas')).toBe(true);
    expect(pathsOverlap('spec.template.spec.containers[name=api].image', 'spec.template')).toBe(true);
    expect(
      pathsOverlap('spec.template.spec.containers[0].image', 'spec.template.spec.containers[name=api]'),
    ).toBe(true);
    expect(
      pathsOverlap('spec.template.spec.containers[name=api]', 'spec.template.spec.containers[name=sidecar]'),
    ).toBe(false);
    expect(pathsOverlap('spec.replicas', 'spec.revisionHistoryLimit')).toBe(false);
    expect(pathsOverlap('metadata.labels["app.kubernetes.io/name"]', 'metadata.labels["app"]')).toBe(false);
    expect(pathsOverlap('(whole object)', 'spec.replicas')).toBe(true);
  });
});

describe('approve of a request whose object moved', () => {
  it('signs the current resourceVersion with signedAt, and says it replaces the earlier approval', async () => {
    const v = movedView(setImage, { approvals: [alice] });
    const r = await run(['approve', ID], {
      [`GET /kubegate/v1/requests/${ID}`]: ok(v),
      [dryRunRoute(ID)]: ok(patchPreview),
      'POST /kubegate/v1/approvals': { status: 201, body: { approved: [ID], approver: 'alice' } },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `note: ${ID}: the object changed since it was held (resourceVersion 4242 -> 4300); this request does not touch what moved; this approval is for 4300`,
    );
    expect(r.stdout).toBe(
      `approved ${ID} (1 of 1 approvals; run the command again) [replaces alice's earlier approval, which may be for an older version: this one is for resourceVersion 4300]\n`,
    );
    expect(r.stdout).not.toContain('counts once');
    const token = (r.calls.find((c) => c.method === 'POST')!.body as { token: string }).token;
    const claims = decodeJwt(token);
    const kg = claims.kubegate as { resourceVersion: string; signedAt: number };
    expect(kg.resourceVersion).toBe('4300');
    expect(Math.abs(kg.signedAt - claims.iat! * 1000)).toBeLessThan(1000);
  });

  it('without a move, approving again still counts once', async () => {
    const r = await run(['approve', ID], {
      [`GET /kubegate/v1/requests/${ID}`]: ok(view({ approvals: [alice] })),
      [dryRunRoute(ID)]: ok(patchPreview),
      'POST /kubegate/v1/approvals': { status: 201, body: { approved: [ID], approver: 'alice' } },
    });
    expect(r.stdout).toMatch(/\[alice had already approved it: counts once\]/);
  });
});

// No blind approvals: a binary body is shown as the apiserver decoded it, the dry run is compared with
// the live subresource, a Namespace delete counts what goes with it, and what cannot be shown
// makes `approve` refuse without --blind.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blindSpots } from '../../../src/approvecli/blind.js';
import { describeChange } from '../../../src/approvecli/change.js';
import { renderShow } from '../../../src/approvecli/render.js';
import { runApproveCli } from '../../../src/approvecli/run.js';
import type { HttpResponse } from '../../../src/approvecli/transport.js';
import type { PendingView } from '../../../src/approvecli/types.js';
import { generateApproverKey } from '../../../src/wire/approver-key.js';
import type { Preview } from '../../../src/wire/preview.js';
import type { PendingDetail } from '../../../src/wire/request-view.js';
import { dryRunRoute, fakeTransport, NOW, patchPreview, sink, tempDir, view } from './helpers.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const SHA = 'c0ffee'.repeat(10).slice(0, 64);

/** `kubectl create deployment web --image=nginx` as the apiserver's dry run decoded it (defaults filled in). */
const decodedDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'dry-run-uid',
    creationTimestamp: '2026-11-25T11:58:00Z',
    labels: { app: 'web' },
    managedFields: [{ manager: 'kubectl-create', operation: 'Update' }],
  },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'nginx',
            image: 'nginx',
            imagePullPolicy: 'Always',
            terminationMessagePath: '/dev/termination-log',
          },
        ],
        restartPolicy: 'Always',
      },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
  },
  status: {},
};

const protobufCreate: Partial<PendingDetail> = {
  verb: 'create',
  namespace: 'default',
  name: '',
  path: '/apis/apps/v1/namespaces/default/deployments',
  query: { fieldManager: ['kubectl-create'] },
  contentType: PROTOBUF,
  body: { contentType: PROTOBUF, sha256: SHA },
  decoded: decodedDeployment,
  oldObject: null,
  resourceVersion: undefined,
};

/** What kubegate's preview answers for a binary body: the decode dry run is the result. */
const decodePreview: Preview = {
  available: true,
  status: 200,
  object: decodedDeployment,
  source: 'the server-side dry run kubegate ran as the requester to read the request body',
};

const liveScale = {
  kind: 'Scale',
  apiVersion: 'autoscaling/v1',
  metadata: { name: 'api', namespace: 'production', resourceVersion: '4242' },
  spec: { replicas: 1 },
  status: { replicas: 1, selector: 'app=api' },
};

/** `kubectl scale deployment api --replicas=3`. */
const scalePatch: Partial<PendingDetail> = {
  subresource: 'scale',
  path: '/apis/apps/v1/namespaces/production/deployments/api/scale',
  query: {},
  body: { spec: { replicas: 3 } },
};

const scalePreview: Preview = {
  available: true,
  status: 200,
  object: {
    ...liveScale,
    metadata: { ...liveScale.metadata, resourceVersion: '4243' },
    spec: { replicas: 3 },
  },
  live: liveScale,
};

const liveNamespace = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: 'team-a',
    uid: 'ns-1',
    resourceVersion: '77',
    labels: { 'kubernetes.io/metadata.name': 'team-a' },
  },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Active' },
};

const namespaceDelete: Partial<PendingDetail> = {
  verb: 'delete',
  group: '',
  resource: 'namespaces',
  namespace: '',
  name: 'team-a',
  path: '/api/v1/namespaces/team-a',
  query: {},
  contentType: 'application/json',
  body: { propagationPolicy: 'Background' },
  oldObject: liveNamespace,
  resourceVersion: '77',
  override_required: true,
};

const namespacePreview: Preview = {
  available: true,
  status: 200,
  object: { ...liveNamespace, status: { phase: 'Terminating' } },
  contents: { pods: 6, deployments: 2, configmaps: 3 },
};

const show = (v: PendingView, p?: Preview) => renderShow(v, NOW, v.fingerprint, p);

describe('show: a protobuf create is described by its decoded object', () => {
  const v = view({ detail: protobufCreate, target: 'default/deployments/web' });

  it('names the object, its kind, image and replicas; never a generated name or a bare hash', () => {
    const text = show(v, decodePreview);
    expect(text).toContain('change: creates deployments.apps default/web (a Deployment)');
    expect(text).toContain('  replicas: 1');
    expect(text).toContain('  container nginx: image "nginx" (pull Always)');
    expect(text).toContain(`  body:         binary, sha256 ${SHA} (decoded below)`);
    expect(text).not.toContain('generated name');
    expect(text).not.toContain('CANNOT BE SHOWN');
    expect(text).toContain(`  source: ${decodePreview.source}`);
    expect(text).toContain('  result: the decoded object shown above');
    expect(text).toContain('delete the created object: kubectl delete deployments.apps -n default web');
  });

  it('the fingerprint still covers the hash, not the decoded object', () => {
    const changed = { ...v, detail: { ...v.detail, decoded: { ...decodedDeployment, kind: 'Pod' } } };
    expect(changed.fingerprint).toBe(v.fingerprint);
    expect(show(changed, decodePreview)).toContain('(recomputed here: matches)');
  });

  it('a binary body without its decoded form is named as what cannot be shown', () => {
    const { decoded: _, ...noDecode } = protobufCreate;
    const d = view({ detail: { ...noDecode, decoded: undefined } }).detail;
    expect(describeChange(d).title).toMatch(/the body CANNOT BE SHOWN$/);
    expect(blindSpots(d, { available: false, reason: 'no decode' }).map((s) => s.what)).toEqual([
      `the request body (${PROTOBUF}, sha256 ${SHA})`,
      'the result of the change (server-side dry run)',
    ]);
  });

  it('ConfigMap data keys and values, Secret keys without values, a Namespace with its labels', () => {
    const cm = { kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { mode: 'fast', 'a.yaml': 'x: 1' } };
    const secret = { kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { pw: '[REDACTED]' } };
    const ns = { kind: 'Namespace', metadata: { name: 'team-b', labels: { env: 'prod' } } };
    const lines = (decoded: unknown, resource: string) =>
      describeChange(view({ detail: { ...protobufCreate, group: '', resource, decoded } }).detail);
    expect(lines(cm, 'configmaps').lines).toEqual(['data.mode: "fast"', 'data["a.yaml"]: "x: 1"']);
    expect(lines(secret, 'secrets').lines).toEqual(['type: "Opaque"', 'data.pw: (value not shown)']);
    const n = lines(ns, 'namespaces');
    expect(n.title).toBe('creates namespaces default/team-b (a Namespace)');
    expect(n.lines).toEqual(['labels: {"env":"prod"}']);
  });
});

describe('show: the dry run is compared with what it changes', () => {
  it('a scale is diffed against the live Scale: only spec.replicas, no kind change', () => {
    const text = show(view({ detail: scalePatch }), scalePreview);
    const dry = text.slice(text.indexOf('server-side dry run'), text.indexOf('rollback plan'));
    expect(dry).toContain('live Scale -> result:\n    spec.replicas: 1 -> 3\n');
    expect(dry).not.toMatch(/kind|removed/);
  });

  it('a Namespace delete shows the namespace and the counts of what goes with it', () => {
    const text = show(view({ detail: namespaceDelete }), namespacePreview);
    const dry = text.slice(text.indexOf('server-side dry run'), text.indexOf('rollback plan'));
    expect(dry).toContain('  it would delete: Namespace team-a\n');
    expect(dry).toContain('and everything in namespace team-a');
    expect(dry).toMatch(/ {4}pods: 6\n {4}deployments: 2\n {4}configmaps: 3\n/);
    expect(text).not.toContain('CANNOT BE SHOWN');
  });

  it('counts it cannot read make a Namespace delete blind', () => {
    const p = { ...namespacePreview, contents: { pods: 6, secrets: 'not readable' } };
    expect(show(view({ detail: namespaceDelete }), p)).toMatch(
      /CANNOT BE SHOWN .*\n {2}- how many secrets namespace team-a holds \(deleted with it\): not readable as the requester/,
    );
  });

  it('an exec has no dry run and needs none: the command is all there is', () => {
    const exec: Partial<PendingDetail> = {
      verb: 'connect',
      group: '',
      resource: 'pods',
      subresource: 'exec',
      body: null,
      query: { command: ['sh', '-c', 'date'], container: ['app'] },
    };
    const text = show(view({ detail: exec }));
    expect(text).toContain('server-side dry run: none exists for exec (what runs is the command above)');
    expect(text).not.toContain('CANNOT BE SHOWN');
  });
});

describe('approve refuses what cannot be shown unless --blind', () => {
  const ID = 'req-20261125-0007';
  let dir: string;
  let cleanup: () => Promise<void>;
  let keyFile: string;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    keyFile = join(dir, 'alice.jwk');
    writeFileSync(keyFile, JSON.stringify((await generateApproverKey('alice')).privateJwk), { mode: 0o600 });
  });
  afterEach(() => cleanup());

  async function run(argv: string[], routes: Record<string, HttpResponse>) {
    const [stdout, stderr, transport] = [sink(), sink(), fakeTransport(routes)];
    const code = await runApproveCli(argv, {
      stdout,
      stderr,
      env: { KUBEGATE_URL: 'https://kubegate.test:8443', APPROVE_KEY: keyFile },
      now: () => NOW,
      transport: () => transport,
    });
    return { code, stdout: stdout.text(), stderr: stderr.text(), calls: transport.calls };
  }

  const unavailable: Preview = {
    available: false,
    reason: 'the API server offers no dry run for create here',
  };
  const eviction = view({
    detail: {
      verb: 'create',
      group: '',
      resource: 'pods',
      subresource: 'eviction',
      path: '/api/v1/namespaces/production/pods/api/eviction',
      query: {},
      contentType: 'application/json',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'api' } },
    },
  });
  const ok = (body: unknown): HttpResponse => ({ status: 200, body });
  /** The eviction held as ID, kubegate's answer to its preview, and a kubegate that takes approvals. */
  const routes = (preview: HttpResponse) => ({
    [`GET /kubegate/v1/requests/${ID}`]: ok(eviction),
    [dryRunRoute(ID)]: preview,
    'POST /kubegate/v1/approvals': { status: 201, body: { approved: [ID], approver: 'alice' } },
  });

  it('show says what cannot be shown and why', async () => {
    const r = await run(['show', ID], routes(ok(unavailable)));
    expect(r.stdout).toContain(
      'CANNOT BE SHOWN (approve refuses it without --blind):\n' +
        '  - the result of the change (server-side dry run): not available: the API server offers no dry run for create here\n',
    );
  });

  it('without --blind: refuses, names the request, what is missing and --blind; signs nothing', async () => {
    const r = await run(['approve', ID], routes(ok(unavailable)));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `approve-cli: ${ID} cannot be approved without --blind: the result of the change (server-side dry run) ` +
        'cannot be shown: not available: the API server offers no dry run for create here. ' +
        `See \`approve-cli show ${ID}\`; add --blind to approve anyway (the approval is recorded as blind).\n`,
    );
    expect(r.calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('with --blind: approves, says so, and the token carries blind: true', async () => {
    const r = await run(['approve', ID, '--blind'], routes(ok(unavailable)));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`note: approving BLIND (--blind): ${ID}: the result of the change`);
    const token = (r.calls.find((c) => c.method === 'POST')!.body as { token: string }).token;
    expect(decodeJwt(token).kubegate).toMatchObject({ action: 'approve', requestIds: [ID], blind: true });
  });

  it('a refused dry run or a preview kubegate did not send is blind too', async () => {
    const refused = await run(
      ['approve', ID],
      routes(ok({ available: true, status: 403, message: 'forbidden' })),
    );
    expect(refused.stderr).toMatch(/refused the dry run \(HTTP 403: forbidden\).*--blind/);
    const down = await run(['approve', ID], routes({ status: 502, body: 'Bad Gateway' }));
    expect(down.stderr).toMatch(/kubegate did not send it: kubegate answered HTTP 502.*--blind/);
  });

  it('a plan applies the rule to each request; a request shown whole is not marked blind', async () => {
    const shown = view({ id: 'req-2' });
    const both = {
      ...routes(ok(unavailable)),
      'GET /kubegate/v1/requests/req-2': ok(shown),
      [dryRunRoute('req-2')]: ok(patchPreview),
    };
    const r = await run(['approve', ID, 'req-2', '--plan', '--print'], both);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${ID} cannot be approved without --blind`));
    expect(r.stderr).not.toMatch(/req-2 cannot/);
    const plan = await run(['approve', ID, 'req-2', '--plan', '--print', '--blind'], both);
    expect(decodeJwt(plan.stdout.trim()).kubegate).toMatchObject({ requestIds: [ID, 'req-2'], blind: true });
    const alone = await run(['approve', 'req-2', '--blind', '--print'], both);
    expect(alone.code).toBe(0);
    expect(decodeJwt(alone.stdout.trim()).kubegate).not.toHaveProperty('blind');
    expect(alone.stderr).toContain('everything could be shown, so the approval is not marked blind');
  });

  it('approve --help shows --blind', async () => {
    const r = await run(['approve', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('approve --blind');
  });
});

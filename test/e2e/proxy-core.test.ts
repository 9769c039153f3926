import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  approveCli,
  auditRecords,
  devEnv,
  freshNamespace,
  kubectl,
  kubectlStream,
  waitForPending,
} from './helpers.js';

/** A raw HTTPS request to kubegate with the agent's token (for paths kubectl never sends). */
function raw(
  path: string,
  opts: { method?: string; token?: string } = {},
): Promise<{ status: number; body: string }> {
  const env = devEnv();
  const kubeconfig = readFileSync(env.KUBECONFIG!, 'utf8');
  const token = opts.token ?? /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
  const url = new URL(env.KUBEGATE_URL!);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: opts.method ?? 'GET',
        ca: readFileSync(env.KUBEGATE_CA!),
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('kubectl works through kubegate against a real kube-apiserver', () => {
  it('lists namespaces, discovers the API and knows who the agent is', async () => {
    const ns = await kubectl(['get', 'namespaces', '-o', 'name']);
    expect(ns.stderr).toBe('');
    expect(ns.stdout).toContain('namespace/kube-system');

    const res = await kubectl(['api-resources', '--no-headers']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);

    const who = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(who.stdout).toBe('agent');
  });

  it('lists 500+ objects', async () => {
    const ns = await freshNamespace('list');
    const items = Array.from({ length: 520 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: ns },
      data: { i: String(i) },
    }));
    const made = await kubectl(['create', '-f', '-'], {
      as: 'admin',
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
    });
    expect(made.code).toBe(0);
    const got = await kubectl(['get', 'configmaps', '-n', ns, '-o', 'name']);
    expect(got.code).toBe(0);
    expect(
      got.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('configmap/cm-')),
    ).toHaveLength(520);
  });

  it('keeps a watch open and delivers a change made by the admin as it happens', async () => {
    const ns = await freshNamespace('watch');
    const watch = kubectlStream(['get', 'configmaps', '-n', ns, '-w', '--output-watch-events', '-o', 'name']);
    try {
      await watch.waitFor('kube-root-ca.crt');
      const t0 = Date.now();
      expect((await kubectl(['create', 'configmap', 'late', '-n', ns], { as: 'admin' })).code).toBe(0);
      await watch.waitFor('configmap/late');
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      watch.stop();
    }
  });

  it('relays the apiserver answer to exec and port-forward unchanged (a node with no kubelet)', async () => {
    const ns = await freshNamespace('exec');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: ns },
      // bound to a node that does not exist: the apiserver itself answers exec and port-forward
      spec: { nodeName: 'no-such-node', containers: [{ name: 'c', image: 'busybox' }] },
    };
    expect((await kubectl(['create', '-f', '-'], { as: 'admin', input: JSON.stringify(pod) })).code).toBe(0);
    const direct = await kubectl(['exec', '-n', ns, 'p', '--', 'true'], { as: 'admin' });
    expect(direct.code).not.toBe(0);
    // exec by an agent is held for approval; approved while held, the upgrade reaches the apiserver
    const held = kubectl(['exec', '-n', ns, 'p', '--', 'true']);
    const p = await waitForPending(`${ns}/pods/p`);
    expect((await approveCli(['approve', p.id])).code).toBe(0);
    const viaGate = await held;
    // kubectl tries a WebSocket first: the apiserver's own refusal (404) goes back unchanged. Its
    // SPDY retry kubegate refuses itself, since kubegate dev records sessions and SPDY cannot be
    // recorded (without recording, the retry too is relayed as is: direct.stderr).
    const failedNow = () => auditRecords().filter((r) => r.request_id === p.id && r.event === 'failed');
    for (let i = 0; i < 150 && failedNow().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const outcomes = failedNow();
    expect(outcomes.map((r) => r.http_status)).toEqual([404, 400]);
    expect(direct.stderr).toContain('not found');
    expect(viaGate.stderr).toContain('can only do so over WebSocket');

    const pfDirect = await kubectl(['port-forward', '-n', ns, 'pod/p', '18080:80'], {
      as: 'admin',
      timeoutMs: 20_000,
    });
    expect(pfDirect.code).not.toBe(0);
    const pfHeld = kubectl(['port-forward', '-n', ns, 'pod/p', '18080:80'], { timeoutMs: 40_000 });
    const pf = await waitForPending(`${ns}/pods/p`);
    expect((await approveCli(['approve', pf.id])).code).toBe(0);
    expect((await pfHeld).stderr).toBe(pfDirect.stderr);
  });

  it('(bypass rounds 16, 17) a revoke or reject while a port-forward waits on a silent kubelet holds when the upgrade fails', async () => {
    const ns = await freshNamespace('tarpit');
    // a kubelet that accepts connections and never answers (a node gone quiet)
    const held = new Set<net.Socket>();
    let connections = 0;
    const kubelet = net.createServer((c) => {
      connections++;
      held.add(c);
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
    const node = `tarpit-${ns}`;
    const admin = (args: string[], input?: string) =>
      kubectl(args, { as: 'admin', ...(input ? { input } : {}) });
    try {
      await tarpitPod(admin, ns, node, (kubelet.address() as AddressInfo).port);
      // SPDY: the apiserver answers the upgrade only once the kubelet did
      const env = { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
      const forward = () =>
        kubectl(['port-forward', '-n', ns, 'pod/tp', '18090:80'], { env, timeoutMs: 8_000 });
      const first = forward();
      const p = await waitForPending(`${ns}/pods/tp`);
      expect((await approveCli(['approve', p.id])).code).toBe(0);
      for (let i = 0; i < 100 && connections === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(connections, 'the approved port-forward reached the kubelet').toBe(1);
      // revoked while the run is under way; then the kubelet hangs up and nothing ran
      expect((await approveCli(['revoke', p.id])).code).toBe(0);
      for (const c of held) c.destroy();
      await first;
      const kept = () =>
        auditRecords().some((r) => r.request_id === p.id && r.event === 'failed' && r.approval_kept);
      for (let i = 0; i < 100 && !kept(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(kept()).toBe(true);
      const shown = JSON.parse((await approveCli(['show', p.id, '-o', 'json'])).stdout);
      expect(shown.status).toBe('pending');
      expect(shown.approvals).toEqual([]);
      // the same command again is held: the revoked approval did not come back
      await forward();
      expect(connections).toBe(1);
      // (bypass round 17) bob approves; while that run waits on the kubelet, alice rejects it
      expect((await approveCli(['approve', p.id], 'bob')).code).toBe(0);
      const third = forward();
      for (let i = 0; i < 100 && connections === 1; i++) await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(2);
      const rejected = await approveCli(['reject', p.id, '--reason', 'not this node']);
      expect(rejected.code, rejected.stderr).toBe(0);
      for (const c of held) c.destroy();
      await third;
      const after = JSON.parse((await approveCli(['show', p.id, '-o', 'json'])).stdout);
      expect(after.status).toBe('rejected');
      expect(after.approvals).toEqual([]);
      const refused = await forward();
      expect(refused.stderr).toMatch(/rejected by alice: not this node/);
      expect(connections).toBe(2);
    } finally {
      kubelet.close();
      for (const c of held) c.destroy();
      await admin(['delete', 'pod', 'tp', '-n', ns, '--grace-period=0', '--force']);
      await admin(['delete', 'node', node]);
    }
  });

  it('refuses ambiguous paths with a Status and keeps serving', async () => {
    for (const p of [
      '/api/v1/namespaces/default/../kube-system/secrets',
      '/api//v1/pods',
      '/api/v1/namespaces/default%2fsecrets',
    ]) {
      const r = await raw(p);
      expect(r.status, p).toBe(400);
      const status = JSON.parse(r.body);
      expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
    }
    const unknown = await raw('/apis/nope.example.com/v1/things');
    expect(unknown.status).toBe(404);
    expect((await kubectl(['get', 'ns', 'default', '-o', 'name'])).stdout.trim()).toBe('namespace/default');
  });

  it('refuses a client that does not trust kubegate (bad TLS) without affecting others', async () => {
    const env = devEnv();
    let failed = false;
    try {
      execFileSync('curl', ['-sS', '--max-time', '5', `${env.KUBEGATE_URL}/version`], { stdio: 'pipe' });
    } catch (err) {
      failed = true;
      expect(String((err as { stderr: Buffer }).stderr)).toMatch(/certificate/i);
    }
    expect(failed).toBe(true);
    expect((await kubectl(['version', '-o', 'json'])).code).toBe(0);
  });
});

/** A node whose kubelet is at `port` on this machine (kwok leaves it alone), and a running pod tp on it. */
async function tarpitPod(
  admin: (args: string[], input?: string) => Promise<{ code: number; stderr: string }>,
  ns: string,
  node: string,
  port: number,
): Promise<void> {
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const steps: [string[], string?][] = [
    [['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } })],
    [
      [
        'patch',
        'node',
        node,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
            daemonEndpoints: { kubeletEndpoint: { Port: port } },
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'e2e',
                message: 'e2e',
                lastHeartbeatTime: at,
                lastTransitionTime: at,
              },
            ],
          },
        }),
      ],
    ],
    [
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'tp', namespace: ns },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
      }),
    ],
    [
      [
        'patch',
        'pod',
        'tp',
        '-n',
        ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'True' }],
            containerStatuses: [
              {
                name: 'c',
                image: 'busybox',
                imageID: 'x',
                ready: true,
                restartCount: 0,
                started: true,
                state: { running: { startedAt: at } },
              },
            ],
          },
        }),
      ],
    ],
  ];
  for (const [args, input] of steps) {
    const r = await admin(args, input);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
}

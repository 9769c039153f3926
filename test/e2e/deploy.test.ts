import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseConfig } from '../../src/config.js';
import { KubernetesStore } from '../../src/state/kubernetes.js';
import { loadUpstream } from '../../src/upstream.js';
import { devEnv, kubectl, kubectlBin } from './helpers.js';

/**
 * Story: an operator installs kubegate into a cluster with `kubectl apply -k deploy/`.
 * The base is checked by the real API server (server-side dry run), its RBAC is enough for
 * the Kubernetes state store and no more, and its config matches the pod's volumes.
 */
const deploy = path.resolve('deploy');
const NS = 'kubegate-system';
let createdNs = false;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kg-deploy-'));

type Doc = {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
};

beforeAll(async () => {
  const got = await kubectl(['get', 'namespace', NS], { as: 'admin' });
  if (got.code !== 0) {
    // the namespace for real (with its Pod Security labels), so the dry run can place objects in it
    const r = await kubectl(['apply', '-f', path.join(deploy, 'namespace.yaml')], { as: 'admin' });
    expect(r.code, r.stderr).toBe(0);
    createdNs = true;
  }
});

afterAll(async () => {
  if (createdNs) await kubectl(['delete', 'namespace', NS, '--wait=false'], { as: 'admin' });
  rmSync(tmp, { recursive: true, force: true });
});

describe('deploy/ Kustomize base', () => {
  it('passes a server-side dry run against the real API server, every object and kind included', async () => {
    const r = await kubectl(['apply', '-k', deploy, '--dry-run=server'], { as: 'admin' });
    expect(r.code, r.stderr).toBe(0);
    for (const obj of [
      'namespace/kubegate-system',
      'serviceaccount/kubegate',
      'role.rbac.authorization.k8s.io/kubegate-state',
      'rolebinding.rbac.authorization.k8s.io/kubegate-state',
      'configmap/kubegate-config-',
      'service/kubegate',
      'deployment.apps/kubegate',
      'poddisruptionbudget.policy/kubegate',
    ]) {
      expect(r.stdout).toContain(obj);
    }
    expect(r.stdout).toMatch(/\(server dry run\)/);
    // the namespace warns on the restricted Pod Security level: the pod template meets it
    expect(r.stderr).not.toMatch(/PodSecurity|would violate/i);
    // the optional impersonation ClusterRole is not part of the base
    expect(r.stdout).not.toContain('clusterrole');
  });

  it('renders a config kubegate accepts, whose files are all mounted in the pod', () => {
    const out = execFileSync(kubectlBin(), ['kustomize', deploy], { encoding: 'utf8' });
    const docs = YAML.parseAllDocuments(out).map((d) => d.toJSON() as Doc);
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('kubegate-config-'));
    const yaml = cm?.data?.['kubegate.yaml'];
    if (!yaml) throw new Error('no kubegate-config ConfigMap with kubegate.yaml in the rendered base');
    const config = parseConfig(YAML.parse(yaml), '/');
    expect(config.state).toEqual({ type: 'kubernetes', namespace: NS, retention_days: 30 });
    expect(config.listen.address).toBe('0.0.0.0');
    expect(config.listen.port).toBe(8443);
    const dep = docs.find((d) => d.kind === 'Deployment')!;
    const pod = (dep.spec as { template: { spec: PodSpec } }).template.spec;
    const c = pod.containers[0]!;
    expect(c.args).toEqual(['serve', '--config', '/etc/kubegate/kubegate.yaml']);
    const mounts = c.volumeMounts.map((m) => m.mountPath);
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    for (const file of [
      config.tls.cert,
      config.tls.key,
      `${config.policy.bundle}/policy.wasm`,
      config.approvers.jwks,
      config.audit.key!,
      config.audit.path,
      config.upstream.ca!,
      '/etc/kubegate/kubegate.yaml',
    ]) {
      const ok = file.startsWith(`${sa}/`) || mounts.some((m) => file === m || file.startsWith(`${m}/`));
      expect(ok, `${file} is under no volume mount`).toBe(true);
    }
    // the secrets the README tells operators to create are the ones the pod reads
    const refs = pod.volumes.map((v) => v.secret?.secretName ?? v.configMap?.name).filter(Boolean);
    expect(refs).toEqual(
      expect.arrayContaining(['kubegate-tls', 'kubegate-approvers', 'kubegate-audit-key', 'kubegate-policy']),
    );
  });

  it("gives kubegate's service account exactly what the Kubernetes state store needs", async () => {
    // the ServiceAccount and its Role for real, then the store opened with the account's own token
    for (const f of ['serviceaccount.yaml', 'rbac.yaml']) {
      const r = await kubectl(['apply', '-f', path.join(deploy, f)], { as: 'admin' });
      expect(r.code, r.stderr).toBe(0);
    }
    const sa = `system:serviceaccount:${NS}:kubegate`;
    const can = async (...args: string[]) =>
      (await kubectl(['auth', 'can-i', ...args, '--as', sa], { as: 'admin' })).stdout.trim();
    expect(await can('create', 'configmaps', '-n', NS)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', NS)).toBe('yes');
    expect(await can('get', 'secrets', '-n', NS)).toBe('no');
    expect(await can('create', 'configmaps', '-n', 'default')).toBe('no');
    expect(await can('impersonate', 'users')).toBe('no');

    const token = await kubectl(['create', 'token', 'kubegate', '-n', NS, '--duration=10m'], { as: 'admin' });
    expect(token.code, token.stderr).toBe(0);
    const upstream = loadUpstream({ kubeconfig: devEnv().KUBEGATE_ADMIN_KUBECONFIG! });
    try {
      const store = await KubernetesStore.open(upstream, {
        namespace: NS,
        authorization: `Bearer ${token.stdout.trim()}`,
      });
      const jti = `deploy-test-${process.pid}-${Date.now()}`;
      expect(await store.useJti(jti, Math.floor(Date.now() / 1000) + 60)).toBe(true);
      expect(await store.useJti(jti, Math.floor(Date.now() / 1000) + 60)).toBe(false);
      expect(await store.getFreeze()).toEqual({ on: false });
      expect(await store.countPending()).toBe(0);
    } finally {
      upstream.agent.destroy();
    }
  });

  it('adds the impersonation ClusterRole only through its optional component', async () => {
    writeFileSync(
      path.join(tmp, 'kustomization.yaml'),
      YAML.stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        // kustomize takes only relative paths to other kustomizations
        resources: [path.relative(tmp, deploy)],
        components: [path.relative(tmp, path.join(deploy, 'components', 'client-cert-impersonation'))],
      }),
    );
    const r = await kubectl(['apply', '-k', tmp, '--dry-run=server'], { as: 'admin' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'clusterrole.rbac.authorization.k8s.io/kubegate-impersonate-client-cert-users',
    );
    expect(r.stdout).toContain(
      'clusterrolebinding.rbac.authorization.k8s.io/kubegate-impersonate-client-cert-users',
    );
    expect(r.stdout).toContain('deployment.apps/kubegate');
    // the component also mounts the cluster client CA for tls.client_ca
    const built = await kubectl(['kustomize', tmp], { as: 'admin' });
    expect(built.code, built.stderr).toBe(0);
    const dep = YAML.parseAllDocuments(built.stdout)
      .map((d) => d.toJSON() as { kind: string; spec?: { template: { spec: PodSpec } } })
      .find((d) => d.kind === 'Deployment');
    if (!dep?.spec) throw new Error(`no Deployment in:\n${built.stdout}`);
    const pod = dep.spec.template.spec;
    expect(pod.volumes.map((v) => v.configMap?.name)).toContain('kubegate-client-ca');
    expect(pod.containers[0]!.volumeMounts.map((m) => m.mountPath)).toContain('/etc/kubegate/client-ca');
  });
});

interface PodSpec {
  containers: { args: string[]; volumeMounts: { mountPath: string }[] }[];
  volumes: { secret?: { secretName: string }; configMap?: { name: string } }[];
}

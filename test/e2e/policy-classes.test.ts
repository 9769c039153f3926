import { describe, expect, it } from 'vitest';
import { auditRecords, freshNamespace, kubectl } from './helpers.js';

/** The class kubegate announced: a Warning for what passed, the Status message for what was held or blocked. */
function announcedRisk(stderr: string): string | undefined {
  return /\b(LOW|MEDIUM|HIGH|CRITICAL) risk\b/.exec(stderr)?.[1];
}

describe('the shipped Rego policy classifies the safety model examples, end to end', () => {
  it('get, describe and logs are LOW and stream straight through', async () => {
    const ns = await freshNamespace('classes-read');
    const get = await kubectl(['get', 'configmaps', '-n', ns, '-v=8']);
    expect(get.code).toBe(0);
    expect(get.stderr).toMatch(/Kubegate-Risk: LOW/i);
    expect((await kubectl(['describe', 'namespace', ns])).code).toBe(0);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: ns },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    };
    await kubectl(['create', '-f', '-'], { as: 'admin', input: JSON.stringify(pod) });
    const logs = await kubectl(['logs', '-n', ns, 'p', '-v=8']);
    expect(logs.stderr).toMatch(/Kubegate-Risk: LOW/i); // the simulated node's logs, through the gate
  });

  it('kubectl auth whoami (a protobuf SelfSubjectReview) is LOW and passes with a Warning naming the class', async () => {
    const who = await kubectl(['auth', 'whoami']);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain('agent');
    expect(announcedRisk(who.stderr)).toBe('LOW');
  });

  it('scale, edit configmap and rollout restart are MEDIUM; delete pod, NetworkPolicy and production changes HIGH; delete namespace, delete pv, clusterrolebinding create and secret update CRITICAL', async () => {
    const ns = await freshNamespace('classes');
    const admin = (args: string[], input?: string) =>
      kubectl(args, { as: 'admin', ...(input ? { input } : {}) });
    await admin(['create', 'deployment', 'web', '--image=nginx', '-n', ns]);
    await admin(['create', 'configmap', 'cfg', '--from-literal=a=1', '-n', ns]);
    await admin(['create', 'secret', 'generic', 'sec', '--from-literal=a=1', '-n', ns]);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: ns },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    };
    await admin(['create', '-f', '-'], JSON.stringify(pod));
    await admin(['create', 'namespace', 'production']).catch(() => undefined);
    await admin(['create', 'configmap', `cfg-${ns}`, '-n', 'production']);
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${ns}` },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } },
    };
    await admin(['create', '-f', '-'], JSON.stringify(pv));
    const victim = await freshNamespace('victim');
    const netpol = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny', namespace: ns },
      spec: { podSelector: {} },
    };

    const cases: [string, string[], string?][] = [
      ['MEDIUM', ['scale', 'deployment', 'web', '--replicas=3', '-n', ns]],
      ['MEDIUM', ['patch', 'configmap', 'cfg', '-n', ns, '-p', '{"data":{"a":"2"}}']],
      ['MEDIUM', ['rollout', 'restart', 'deployment/web', '-n', ns]],
      ['HIGH', ['delete', 'pod', 'p', '-n', ns, '--wait=false']],
      ['HIGH', ['create', '-f', '-'], JSON.stringify(netpol)],
      ['HIGH', ['patch', 'configmap', `cfg-${ns}`, '-n', 'production', '-p', '{"data":{"b":"1"}}']],
      ['CRITICAL', ['delete', 'namespace', victim, '--wait=false']],
      ['CRITICAL', ['delete', 'pv', `pv-${ns}`, '--wait=false']],
      ['CRITICAL', ['create', 'clusterrolebinding', `crb-${ns}`, '--clusterrole=view', '--user=x']],
      ['CRITICAL', ['patch', 'secret', 'sec', '-n', ns, '-p', '{"stringData":{"a":"2"}}']],
    ];
    const results = await Promise.all(cases.map(([, args, input]) => kubectl(args, input ? { input } : {})));
    results.forEach((r, i) => {
      const [risk, args] = cases[i]!;
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/req-[A-Za-z0-9-]+/);
      expect(announcedRisk(r.stderr), `${args.join(' ')}: ${r.stderr}`).toBe(risk);
    });

    // the same classes are in the audit log, and nothing changed
    const records = auditRecords().filter(
      (r) => String(r.resource ?? '').includes(ns) || String(r.resource ?? '').includes(victim),
    );
    for (const risk of ['MEDIUM', 'HIGH', 'CRITICAL'])
      expect(records.some((r) => r.risk === risk)).toBe(true);
    expect(
      (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout,
    ).toBe('1');
    expect((await admin(['get', 'namespace', victim, '-o', 'jsonpath={.status.phase}'])).stdout).toBe(
      'Active',
    );
    expect((await admin(['get', 'clusterrolebinding', `crb-${ns}`])).code).not.toBe(0);
  });
});

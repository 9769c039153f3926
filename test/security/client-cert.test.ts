import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { approveCli, kubectl, requestIdIn } from '../e2e/helpers.js';
import {
  configMap,
  devEnv,
  dir,
  forwardedSince,
  gate,
  lastSeq,
  ns,
  pwnedPatch,
  rv,
  since,
} from './helpers.js';

/**
 * Client-certificate callers: kubegate verifies the certificate against the cluster's client
 * CA and acts upstream as that user by impersonation, so the user keeps exactly their own
 * rights. A certificate kubegate must not trust, or one combined with other credentials or
 * Impersonate-* headers, changes nothing.
 */
const pki = () => path.join(dir, 'cluster', 'pki');
const carolKubeconfig = () => path.join(dir, 'carol.kubeconfig');
const script = path.resolve('certs/make-client-cert.sh');

interface Pem {
  cert: Buffer;
  key: Buffer;
}

/** A certificate from `caDir` (the cluster's client CA by default), as make-client-cert.sh makes them. */
function mint(
  name: string,
  user: string,
  groups: string[],
  o: { caDir?: string; subject?: string; eku?: string } = {},
): Pem {
  const caDir = o.caDir ?? pki();
  execFileSync('bash', [script, caDir, name, user, ...groups], {
    env: {
      ...process.env,
      ...(o.subject ? { CERT_SUBJECT: o.subject } : {}),
      ...(o.eku ? { CERT_EKU: o.eku } : {}),
    },
    stdio: 'ignore',
  });
  return {
    cert: readFileSync(path.join(caDir, `${name}.crt`)),
    key: readFileSync(path.join(caDir, `${name}.key`)),
  };
}

const carol = (): Pem => ({
  cert: readFileSync(path.join(pki(), 'carol.crt')),
  key: readFileSync(path.join(pki(), 'carol.key')),
});

function sha256Of(pem: Buffer): string {
  return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem })
    .toString()
    .replace(/^.*=/, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
}

/** The apiserver's own audit events (Metadata level, writes only). */
function apiserverAudit(): any[] {
  return readFileSync(devEnv().KUBEGATE_APISERVER_AUDIT!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('client-certificate callers', () => {
  let n: string;
  const cm = () => `/api/v1/namespaces/${n}/configmaps/victim`;
  const patch = pwnedPatch;

  beforeAll(async () => {
    n = await ns('cert');
    await configMap(n, 'victim');
  });

  it('kubectl with a certificate from the cluster CA is that user (whoami through kubegate)', async () => {
    const r = await kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig: carolKubeconfig() });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout).status.userInfo;
    expect(info.username).toBe('carol');
    expect(info.groups).toEqual(expect.arrayContaining(['kubegate:developers', 'system:authenticated']));
    expect(info.extra['kubegate.dev/client-cert-sha256']).toEqual([sha256Of(carol().cert)]);
  });

  it("reads run with the user's own rights, not kubegate's", async () => {
    const ok = await kubectl(['get', 'configmaps', '-n', n], { kubeconfig: carolKubeconfig() });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('victim');
    // `edit` does not include RBAC objects; kubegate itself is cluster-admin upstream
    const denied = await kubectl(['get', 'clusterroles'], { kubeconfig: carolKubeconfig() });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "carol" cannot list resource "clusterroles"');
  });

  it('a change is held as hers, runs after approval as her, and the apiserver audit shows kubegate and carol', async () => {
    const args = ['create', 'configmap', 'by-carol', '-n', n, '--from-literal=k=v'];
    const held = await kubectl(args, { kubeconfig: carolKubeconfig() });
    expect(held.code).not.toBe(0);
    const id = requestIdIn(held.stderr);
    const pendingRow = (await approveCli(['show', id])).stdout;
    expect(pendingRow).toContain('carol');
    const approved = await approveCli(['approve', id], 'alice');
    expect(approved.code, approved.stderr).toBe(0);
    const ran = await kubectl(args, { kubeconfig: carolKubeconfig() });
    expect(ran.code, ran.stderr).toBe(0);
    expect(await rv(`/api/v1/namespaces/${n}/configmaps/by-carol`)).toBeDefined();

    const created = apiserverAudit().find(
      (e) =>
        e.verb === 'create' &&
        e.objectRef?.name === 'by-carol' &&
        e.objectRef?.namespace === n &&
        !String(e.requestURI).includes('dryRun') &&
        e.responseStatus?.code === 201,
    );
    expect(created).toBeDefined();
    expect(created.user.username).toBe('kubegate');
    expect(created.impersonatedUser.username).toBe('carol');
    expect(created.impersonatedUser.groups).toContain('kubegate:developers');
    expect(created.impersonatedUser.extra['kubegate.dev/client-cert-subject']).toEqual([
      'CN=carol,O=kubegate:developers',
    ]);
    // and kubegate's own audit names carol as the requester
    const fwd = since(0).find((r) => r.event === 'forwarded' && r.request_id === id);
    expect(fwd?.user).toBe('carol');
  });

  it('a change beyond her rights is refused upstream as her, even when approved', async () => {
    const args = ['create', 'priorityclass', `pc-${n}`, '--value=5'];
    const r = await kubectl(args, { kubeconfig: carolKubeconfig() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('User "carol" cannot create resource "priorityclasses"');
    expect(await rv(`/apis/scheduling.k8s.io/v1/priorityclasses/pc-${n}`)).toBeUndefined();
  });

  it('a certificate from another CA (CN=admin, O=system:masters) gets 401 and changes nothing', async () => {
    const evil = mint('mallory', 'admin', ['system:masters'], {
      caDir: mkdtempSync(path.join(os.tmpdir(), 'evil-ca-')),
    });
    const before = await rv(cm());
    const seq = lastSeq();
    for (const o of [patch, { method: 'GET' }]) {
      const r = await gate(cm(), { ...o, as: null, cert: evil });
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
      expect(r.json.message).toContain('client certificate not accepted');
    }
    expect(await rv(cm())).toBe(before);
    expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
  });

  it('a cluster-CA certificate without client-auth usage, or with two CNs, gets 401', async () => {
    const server = mint('serveronly', 'carol', ['kubegate:developers'], { eku: 'serverAuth' });
    const twoCns = mint('twocns', 'x', [], { subject: '/CN=carol/CN=admin' });
    const before = await rv(cm());
    for (const cert of [server, twoCns]) {
      const r = await gate(cm(), { ...patch, as: null, cert });
      expect(r.status).toBe(401);
      expect(r.json.message).toContain('client certificate not accepted');
    }
    expect(await rv(cm())).toBe(before);
  });

  it('a certificate plus a bearer token is refused (400): kubegate would not know who asks', async () => {
    const before = await rv(cm());
    const seq = lastSeq();
    const r = await gate(cm(), { ...patch, as: 'agent', cert: carol() });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('not both');
    expect(await rv(cm())).toBe(before);
    expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
  });

  it('a certificate caller cannot add Impersonate-* headers of its own (any case, any kind)', async () => {
    const before = await rv(cm());
    const seq = lastSeq();
    const attempts: Record<string, string>[] = [
      { 'Impersonate-User': 'admin' },
      { 'iMpErSoNaTe-GrOuP': 'system:masters' },
      { 'Impersonate-Extra-kubegate.dev%2fclient-cert-sha256': 'forged' },
      { 'Impersonate-Uid': 'uid-admin' },
    ];
    for (const headers of attempts) {
      const r = await gate(cm(), { ...patch, as: null, cert: carol(), headers });
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
      const read = await gate(cm(), { as: null, cert: carol(), headers });
      expect(read.status).toBe(403);
    }
    expect(await rv(cm())).toBe(before);
    expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
  });

  it("carol's approval is hers: the same change sent by another caller (token) stays held", async () => {
    const seq = lastSeq();
    const first = await gate(cm(), { ...patch, as: null, cert: carol(), timeoutMs: 30_000 });
    expect(first.status).toBe(403);
    const id = /req-\d{8}-[0-9a-f]+/.exec(first.body)?.[0];
    expect(id, first.body).toBeDefined();
    const approved = await approveCli(['approve', id!], 'alice');
    expect(approved.code, approved.stderr).toBe(0);
    // the agent (cluster-admin by token) replays the identical request: not carol, not approved
    const replay = await gate(cm(), { ...patch, as: 'agent', timeoutMs: 30_000 });
    expect(replay.status).toBe(403);
    expect(replay.body).toContain('held for approval');
    expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
    const data = async () =>
      (
        JSON.parse(
          (await kubectl(['get', 'cm', 'victim', '-n', n, '-o', 'json'], { as: 'admin' })).stdout,
        ) as {
          data: Record<string, string>;
        }
      ).data;
    expect((await data()).a).toBe('1');
    // carol herself now runs it, once
    const ran = await gate(cm(), { ...patch, as: null, cert: carol() });
    expect(ran.status, ran.body).toBe(200);
    expect((await data()).a).toBe('pwned');
    expect(forwardedSince(seq, `${n}/configmaps/victim`).map((r) => r.user)).toEqual(['carol']);
  });
});

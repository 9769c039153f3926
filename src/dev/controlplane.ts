import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { binary, repoRoot } from './binaries.js';
import { freePort } from './ports.js';

/** Static-token users of the local control plane (token file, RBAC bound at start). */
export const USERS = ['admin', 'agent', 'alice', 'bob', 'kubegate'] as const;
export type UserName = (typeof USERS)[number];

export interface ControlPlane {
  url: string;
  /** The apiserver's self-signed serving certificate, which is also its CA. */
  caFile: string;
  tokens: Record<UserName, string>;
  /** The CA the apiserver trusts for client certificates (--client-ca-file). */
  clientCaFile: string;
  /** carol: a user who authenticates with a client certificate from that CA (CN carol, O kubegate:developers). */
  carolCert: { cert: string; key: string };
  /** The apiserver's own audit log (Metadata level, writes only). */
  auditLog: string;
  dir: string;
  stop(): Promise<void>;
}

export interface Proc {
  name: string;
  child: ChildProcess;
}

export function startProc(name: string, bin: string, args: string[], logDir: string): Proc {
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { name, child };
}

export async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]);
  if (!killed) {
    p.child.kill('SIGKILL');
    await exited;
  }
}

function get(url: string, token: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { headers: { authorization: `Bearer ${token}` }, ca, timeout: 3000 },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
  });
}

function failIfExited(procs: Proc[], logDir: string): void {
  for (const p of procs) {
    if (p.child.exitCode !== null) {
      const log = readFileSync(path.join(logDir, `${p.name}.log`), 'utf8')
        .split('\n')
        .slice(-30)
        .join('\n');
      throw new Error(`${p.name} exited with code ${p.child.exitCode}:\n${log}`);
    }
  }
}

/** Writes a kubeconfig for one user (a bearer token, or a client certificate's files) against one server. */
export function writeKubeconfig(
  file: string,
  server: string,
  caFile: string,
  user: string,
  credential: string | { cert: string; key: string },
): void {
  const ca = readFileSync(caFile).toString('base64');
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const auth =
    typeof credential === 'string'
      ? `token: ${credential}`
      : `client-certificate-data: ${b64(credential.cert)}\n    client-key-data: ${b64(credential.key)}`;
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: ${user}
  user:
    ${auth}
contexts:
- name: ${user}@local
  context: {cluster: local, user: ${user}, namespace: default}
current-context: ${user}@local
`,
    { mode: 0o600 },
  );
}

/** The group each static-token user belongs to (the token file's fourth column). */
const GROUPS: Record<UserName, string> = {
  admin: 'system:masters',
  agent: 'kubegate:agents',
  alice: 'kubegate:approvers',
  bob: 'kubegate:approvers',
  kubegate: 'kubegate:proxies',
};

/** Everything the apiserver is started with that is written before it starts. */
interface ClusterFiles {
  tokens: Record<UserName, string>;
  tokenFile: string;
  saKey: string;
  clientCaFile: string;
  carolCert: { cert: string; key: string };
  auditPolicy: string;
  auditLog: string;
}

/** One random bearer token per user (or the one given), in the apiserver's static token file. */
function writeTokenFile(
  pki: string,
  given: Partial<Record<UserName, string>>,
): Pick<ClusterFiles, 'tokens' | 'tokenFile'> {
  const tokens = Object.fromEntries(
    USERS.map((u) => [u, given[u] ?? randomBytes(24).toString('hex')]),
  ) as Record<UserName, string>;
  const tokenFile = path.join(pki, 'tokens.csv');
  writeFileSync(tokenFile, `${USERS.map((u) => `${tokens[u]},${u},uid-${u},"${GROUPS[u]}"`).join('\n')}\n`, {
    mode: 0o600,
  });
  return { tokens, tokenFile };
}

/** The key service-account tokens are signed with (and checked against). */
function writeServiceAccountKey(pki: string): string {
  const saKey = path.join(pki, 'sa.key');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return saKey;
}

/** Client-certificate users, as real clusters have them: a client CA and one user, carol. */
function makeClientCerts(pki: string): Pick<ClusterFiles, 'clientCaFile' | 'carolCert'> {
  execFileSync(
    'bash',
    [path.join(repoRoot, 'certs', 'make-client-cert.sh'), pki, 'carol', 'carol', 'kubegate:developers'],
    {
      stdio: 'ignore',
    },
  );
  const clientCaFile = path.join(pki, 'client-ca.crt');
  const carolCert = { cert: path.join(pki, 'carol.crt'), key: path.join(pki, 'carol.key') };
  return { clientCaFile, carolCert };
}

/** The apiserver's audit log shows who really acted (and as whom, when kubegate impersonates). */
function writeAuditPolicy(pki: string, logDir: string): Pick<ClusterFiles, 'auditPolicy' | 'auditLog'> {
  const auditPolicy = path.join(pki, 'audit-policy.yaml');
  writeFileSync(
    auditPolicy,
    'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: None\n  verbs: [get, list, watch]\n- level: Metadata\n',
  );
  const auditLog = path.join(logDir, 'apiserver-audit.log');
  return { auditPolicy, auditLog };
}

function writeClusterFiles(
  pki: string,
  logDir: string,
  tokens: Partial<Record<UserName, string>>,
): ClusterFiles {
  return {
    ...writeTokenFile(pki, tokens),
    saKey: writeServiceAccountKey(pki),
    ...makeClientCerts(pki),
    ...writeAuditPolicy(pki, logDir),
  };
}

function etcdArgs(dataDir: string, etcdUrl: string, peerPort: number): string[] {
  return [
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

function apiserverArgs(files: ClusterFiles, etcdUrl: string, apiPort: number, certDir: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${files.saKey}`,
    `--service-account-signing-key-file=${files.saKey}`,
    '--authorization-mode=RBAC',
    `--token-auth-file=${files.tokenFile}`,
    `--client-ca-file=${files.clientCaFile}`,
    `--audit-policy-file=${files.auditPolicy}`,
    `--audit-log-path=${files.auditLog}`,
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    // the simulated kubelets (KWOK) are reached by the node's InternalIP; their serving
    // certificate is self-signed, and with no --kubelet-certificate-authority it is not checked
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    '--v=0',
  ];
}

function controllerManagerArgs(kubeconfig: string, saKey: string, caFile: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--service-account-private-key-file=${saKey}`,
    `--root-ca-file=${caFile}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--v=0',
  ];
}

/** Polls /readyz until it answers 200; throws if a process exits, or after 180s. */
async function waitForApiserver(
  url: string,
  adminToken: string,
  caFile: string,
  procs: Proc[],
  logDir: string,
): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    failIfExited(procs, logDir);
    try {
      const r = await get(`${url}/readyz`, adminToken, readFileSync(caFile));
      if (r.status === 200) return;
    } catch {
      // the serving cert is not written yet
    }
    await sleep(250);
  }
  throw new Error(`kube-apiserver not ready after 180s; see ${logDir}/kube-apiserver.log`);
}

/**
 * Starts etcd, kube-apiserver (RBAC, static tokens, generated serving cert and
 * service-account key) and kube-controller-manager on free loopback ports.
 */
export async function startControlPlane(
  dir: string,
  /** tokens: users whose token this cluster shares with another (as one identity provider would). */
  opts: { controllerManager?: boolean; tokens?: Partial<Record<UserName, string>> } = {},
): Promise<ControlPlane> {
  const logDir = path.join(dir, 'logs');
  const pki = path.join(dir, 'pki');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const files = writeClusterFiles(pki, logDir, opts.tokens ?? {});

  const [etcdPort, peerPort, apiPort, kcmPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of [...procs].reverse()) await stopProc(p);
  };
  try {
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = etcdArgs(path.join(dir, 'etcd'), etcdUrl, peerPort);
    procs.push(startProc('etcd', binary('etcd'), etcd, logDir));

    const certDir = path.join(pki, 'apiserver');
    const apiserver = apiserverArgs(files, etcdUrl, apiPort, certDir);
    procs.push(startProc('kube-apiserver', binary('kube-apiserver'), apiserver, logDir));
    const url = `https://127.0.0.1:${apiPort}`;
    const caFile = path.join(certDir, 'apiserver.crt');
    await waitForApiserver(url, files.tokens.admin, caFile, procs, logDir);

    if (opts.controllerManager !== false) {
      const kcmKubeconfig = path.join(pki, 'kcm.kubeconfig');
      writeKubeconfig(kcmKubeconfig, url, caFile, 'admin', files.tokens.admin);
      const kcm = controllerManagerArgs(kcmKubeconfig, files.saKey, caFile, kcmPort);
      procs.push(startProc('kube-controller-manager', binary('kube-controller-manager'), kcm, logDir));
    }
    const { tokens, clientCaFile, carolCert, auditLog } = files;
    return { url, caFile, tokens, clientCaFile, carolCert, auditLog, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

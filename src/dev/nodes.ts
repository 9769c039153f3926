import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeCall } from '../kube/client.js';
import { closeUpstream, loadUpstream, type Upstream } from '../upstream.js';
import { repoRoot, tool } from './binaries.js';
import { type ControlPlane, type Proc, startProc, stopProc, writeKubeconfig } from './controlplane.js';
import { freePort } from './ports.js';

/** The one simulated node every pod of the local cluster runs on. */
export const NODE_NAME = 'kwok-node-0';

export interface SimulatedNodes {
  /** What every container "logs" (kubectl logs, attach); append to it and `logs -f` shows it. */
  logsFile: string;
  /** The working directory of every `kubectl exec` (commands run as local processes). */
  execDir: string;
  /** Where every pod port forwards to: a local HTTP server that answers with what it was sent. */
  portForwardTarget: number;
  stop(): Promise<void>;
}

/** One line in the container runtime's log format, which KWOK reads (time, stream, full line, text). */
export function criLogLine(text: string, at = new Date()): string {
  return `${at.toISOString()} stdout F ${text}\n`;
}

/** KWOK's configuration: the stages, and how exec/logs/attach/port-forward map to this machine. */
function writeKwokConfig(dir: string, nodes: Omit<SimulatedNodes, 'stop'>): string {
  const stages = readFileSync(path.join(repoRoot, 'test', 'cluster', 'kwok-stages.yaml'), 'utf8');
  const kind = (k: string, spec: object) =>
    JSON.stringify({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: k, metadata: { name: 'all' }, spec });
  const docs = [
    stages,
    kind('ClusterExec', { execs: [{ local: { workDir: nodes.execDir } }] }),
    kind('ClusterLogs', { logs: [{ logsFile: nodes.logsFile, follow: true }] }),
    kind('ClusterAttach', { attaches: [{ logsFile: nodes.logsFile }] }),
    kind('ClusterPortForward', {
      forwards: [{ target: { address: '127.0.0.1', port: nodes.portForwardTarget } }],
    }),
  ];
  const file = path.join(dir, 'kwok.yaml');
  writeFileSync(file, docs.join('\n---\n'));
  return file;
}

/** The port-forward target: answers every HTTP request with its method, path and body. */
async function startEchoServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(`simulated pod got ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Binds every unscheduled pod to the simulated node (there is no kube-scheduler here). */
async function bindPending(upstream: Upstream, auth: string): Promise<void> {
  type Pod = { metadata: { name: string; namespace: string }; spec?: { schedulerName?: string } };
  const list = await kubeCall<{ items?: Pod[] }>(upstream, {
    path: '/api/v1/pods?fieldSelector=spec.nodeName%3D,status.phase%3DPending',
    authorization: auth,
  });
  // like the default scheduler, leave pods that name another one (tests keep static pods that way)
  const mine = (p: Pod) => (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler';
  for (const p of (list.body?.items ?? []).filter(mine)) {
    const { name, namespace } = p.metadata;
    await kubeCall(upstream, {
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/pods/${name}/binding`,
      authorization: auth,
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name },
        target: { kind: 'Node', name: NODE_NAME },
      },
    });
  }
}

function startBinder(upstream: Upstream, auth: string): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      await bindPending(upstream, auth).catch(() => undefined); // the next round retries
      await sleep(300);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

async function createNode(upstream: Upstream, auth: string): Promise<void> {
  const r = await kubeCall(upstream, {
    method: 'POST',
    path: '/api/v1/nodes',
    authorization: auth,
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
        labels: { 'kubernetes.io/hostname': NODE_NAME, type: 'kwok' },
      },
    },
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating node: HTTP ${r.status}`);
}

async function waitNodeReady(upstream: Upstream, auth: string, kwok: Proc, logDir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (kwok.child.exitCode !== null) throw new Error(`kwok exited; see ${logDir}/kwok.log`);
    const r = await kubeCall<{ status?: { conditions?: { type: string; status: string }[] } }>(upstream, {
      path: `/api/v1/nodes/${NODE_NAME}`,
      authorization: auth,
    });
    if (r.body?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    await sleep(250);
  }
  throw new Error(`node ${NODE_NAME} not Ready after 60s; see ${logDir}/kwok.log`);
}

/**
 * Simulated nodes beside the control plane: KWOK plays the node and the kubelet, so pods run
 * (Running, Ready) and `kubectl logs/exec/attach/port-forward/cp` reach local files and processes.
 */
export async function startNodes(cp: ControlPlane, dir: string): Promise<SimulatedNodes> {
  const nodesDir = path.join(dir, 'nodes');
  const execDir = path.join(nodesDir, 'exec');
  mkdirSync(execDir, { recursive: true });
  const logsFile = path.join(nodesDir, 'container.log');
  writeFileSync(
    logsFile,
    ['simulated container started', 'listening on :8080'].map((l) => criLogLine(l)).join(''),
  );
  const echo = await startEchoServer();
  const portForwardTarget = (echo.address() as AddressInfo).port;
  const config = writeKwokConfig(nodesDir, { logsFile, execDir, portForwardTarget });
  const kubeconfig = path.join(nodesDir, 'kwok.kubeconfig');
  writeKubeconfig(kubeconfig, cp.url, cp.caFile, 'admin', cp.tokens.admin);
  const port = await freePort();
  const logDir = path.join(cp.dir, 'logs');
  const kwok = startProc(
    'kwok',
    tool('kwok'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--config=${config}`,
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-ip=127.0.0.1',
      `--node-port=${port}`,
      `--server-address=127.0.0.1:${port}`,
    ],
    logDir,
  );
  const upstream = loadUpstream({ url: cp.url, caFile: cp.caFile });
  const auth = `Bearer ${cp.tokens.admin}`;
  const stopBinder = startBinder(upstream, auth);
  const stop = async () => {
    await stopBinder();
    await stopProc(kwok);
    echo.close();
    closeUpstream(upstream);
  };
  try {
    await createNode(upstream, auth);
    await waitNodeReady(upstream, auth, kwok, logDir);
  } catch (err) {
    await stop();
    throw err;
  }
  return { logsFile, execDir, portForwardTarget, stop };
}

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { freePort } from '../../src/dev/ports.js';
import { devEnv, dir, freshNamespace, kubectl } from './helpers.js';

/**
 * kill -9 of kubegate under 32 concurrent writers, 20 times in a row, on one
 * audit log: the chain verifies, every change in the cluster has its
 * write-ahead record, and no acknowledged change lacks one.
 */
const ROUNDS = 20;
const WRITERS = 32;

function startKubegate(config: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/cli/kubegate.js', 'serve', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /"port":(\d+)[^\n]*kubegate listening/.exec(out);
      if (m) resolve({ child, url: `https://127.0.0.1:${m[1]}` });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`kubegate exited ${code}: ${out}`)));
  });
}

function create(url: string, ca: Buffer, token: string, ns: string, name: string): Promise<number> {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: name } });
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/configmaps`,
        ca,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('audit log survives kill -9 under load', () => {
  it(`${ROUNDS} crashes under ${WRITERS} concurrent writers: verify passes, nothing acknowledged is missing`, async () => {
    const ns = await freshNamespace('crash');
    const env = devEnv();
    const base = YAML.parse(readFileSync(path.join(dir, 'kubegate.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const port = await freePort();
    mkdirSync(path.join(dir, 'crash'), { recursive: true });
    const config = {
      ...base,
      listen: { address: '127.0.0.1', port },
      audit: { ...base.audit, path: 'crash/actions-log.jsonl', checkpoint_every: 50 },
      state: { type: 'file', path: 'crash/state.db' },
      // every change passes without approval here: this test is about the log, not the gate
      safety: { require_approval: false },
    };
    const configFile = path.join(dir, 'crash-kubegate.yaml');
    writeFileSync(configFile, YAML.stringify(config));
    const auditFile = path.join(dir, 'crash', 'actions-log.jsonl');
    const ca = readFileSync(env.KUBEGATE_CA!);
    const token = /token: (\S+)/.exec(readFileSync(env.KUBECONFIG!, 'utf8'))?.[1] ?? '';

    const acknowledged: string[] = [];
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { child, url } = await startKubegate(configFile);
      let stop = false;
      const writers = Array.from({ length: WRITERS }, async () => {
        while (!stop) {
          const name = `cm-${round}-${n++}`;
          const status = await create(url, ca, token, ns, name);
          if (status === 201) acknowledged.push(name);
          if (status === 0) return; // kubegate is gone
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      await new Promise((r) => child.once('exit', r));
    }
    // one clean start after the last crash: recovery and `interrupted` records, then a clean stop
    const last = await startKubegate(configFile);
    last.child.kill('SIGTERM');
    await new Promise((r) => last.child.once('exit', r));

    const verify = execFileSync(
      process.execPath,
      [
        'dist/cli/kubegate.js',
        'audit',
        'verify',
        auditFile,
        '--key',
        path.join(dir, 'keys', 'audit-key.pub.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(verify).toMatch(/ok|intact|verified/i);

    const records = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const forwarded = new Set(records.filter((r) => r.event === 'forwarded').map((r) => r.resource));
    const settled = new Set(
      records
        .filter((r) => ['executed', 'failed', 'interrupted'].includes(r.event!))
        .map((r) => r.request_id),
    );
    for (const r of records.filter((x) => x.event === 'forwarded'))
      expect(settled.has(r.request_id), r.request_id).toBe(true);

    const inCluster = (await kubectl(['get', 'configmaps', '-n', ns, '-o', 'name'], { as: 'admin' })).stdout
      .split('\n')
      .map((l) => l.replace('configmap/', ''))
      .filter((l) => l.startsWith('cm-'));
    expect(acknowledged.length).toBeGreaterThan(ROUNDS * 5);
    for (const name of inCluster)
      expect(
        forwarded.has(`${ns}/configmaps/${name}`),
        `${name} is in the cluster without a write-ahead record`,
      ).toBe(true);
    for (const name of acknowledged) expect(inCluster, `${name} was acknowledged`).toContain(name);
    expect(records.some((r) => r.event === 'recovered' || r.event === 'interrupted')).toBe(true);
  });
});

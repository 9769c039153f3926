import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { readKubeconfig } from '../../src/kube/kubeconfig-read.js';
import { loadUpstream } from '../../src/upstream.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-read-'));
const write = (name: string, doc: unknown) => {
  const f = path.join(dir, name);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, YAML.stringify(doc));
  return f;
};

const main = write('a/config', {
  'current-context': 'staging',
  clusters: [
    { name: 'staging', cluster: { server: 'https://staging:6443', 'certificate-authority': 'ca.crt' } },
    {
      name: 'prod',
      cluster: {
        server: 'https://prod:6443',
        'certificate-authority-data': Buffer.from('PROD CA').toString('base64'),
      },
    },
    { name: 'lab', cluster: { server: 'https://lab:6443', 'insecure-skip-tls-verify': true } },
  ],
  users: [
    { name: 'gate', user: { token: 'tok-1' } },
    { name: 'sa', user: { tokenFile: 'sa.token' } },
  ],
  contexts: [
    { name: 'staging', context: { cluster: 'staging', user: 'gate' } },
    { name: 'prod', context: { cluster: 'prod', user: 'sa' } },
    { name: 'lab', context: { cluster: 'lab', user: 'nobody' } },
    { name: 'ghost', context: { cluster: 'missing', user: 'gate' } },
  ],
});
writeFileSync(path.join(dir, 'a/ca.crt'), 'STAGING CA');
writeFileSync(path.join(dir, 'a/sa.token'), 'sa-token\n');

const savedEnv = process.env.KUBECONFIG;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedEnv;
});

describe('readKubeconfig', () => {
  it('reads the current context: server, a CA file relative to the kubeconfig, the token', () => {
    const t = readKubeconfig(main);
    expect(t).toEqual({
      server: 'https://staging:6443',
      ca: Buffer.from('STAGING CA'),
      insecure: false,
      token: 'tok-1',
    });
  });

  it('reads a named context with inline CA data and a token file (resolved, not read)', () => {
    const t = readKubeconfig(main, 'prod');
    expect(t.ca?.toString()).toBe('PROD CA');
    expect(t.tokenFile).toBe(path.join(dir, 'a/sa.token'));
    expect(t.token).toBeUndefined();
  });

  it('reports insecure-skip-tls-verify and a user it does not find as no credentials', () => {
    expect(readKubeconfig(main, 'lab')).toEqual({ server: 'https://lab:6443', insecure: true });
  });

  it('names what is missing', () => {
    expect(() => readKubeconfig(main, 'nope')).toThrow('kubeconfig has no context "nope"');
    expect(() => readKubeconfig(main, 'ghost')).toThrow('kubeconfig has no cluster for context "ghost"');
    expect(() => readKubeconfig(path.join(dir, 'none'))).toThrow(/kubeconfig .*none: ENOENT/);
    const empty = write('empty', { clusters: [] });
    expect(() => readKubeconfig(empty)).toThrow(/has no current-context/);
  });

  it('merges $KUBECONFIG in order: the first definition of a name wins, missing files are skipped', () => {
    const over = write('b/config', {
      'current-context': 'prod',
      clusters: [{ name: 'prod', cluster: { server: 'https://other-prod:6443' } }],
      users: [],
      contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'gate' } }],
    });
    process.env.KUBECONFIG = [path.join(dir, 'missing'), over, main].join(path.delimiter);
    const t = readKubeconfig();
    expect(t.server).toBe('https://other-prod:6443');
    expect(t.token).toBe('tok-1'); // the user comes from the later file
  });
});

describe('loadUpstream from a kubeconfig', () => {
  it('uses the context token as kubegate’s own credentials, and re-reads a token file on use', () => {
    expect(loadUpstream({ kubeconfig: main }).ownAuthorization()).toBe('Bearer tok-1');
    const prod = loadUpstream({ kubeconfig: main, context: 'prod' });
    expect(prod.ownAuthorization()).toBe('Bearer sa-token');
    writeFileSync(path.join(dir, 'a/sa.token'), 'rotated\n');
    expect(prod.ownAuthorization()).toBe('Bearer rotated');
  });

  it('refuses insecure-skip-tls-verify', () => {
    expect(() => loadUpstream({ kubeconfig: main, context: 'lab' })).toThrow(/insecure-skip-tls-verify/);
  });
});

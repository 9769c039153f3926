// Redaction: Secret payloads and credentials never reach the audit file; other bodies stay intact.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/log.js';
import { REDACTED, redact } from '../../../src/audit/redact.js';
import { verifyAuditFile } from '../../../src/audit/verify.js';
import { silent, tempDir } from './helpers.js';

const B64 = Buffer.from('hunter2-super-secret').toString('base64');

const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'db',
    namespace: 'default',
    labels: { app: 'db' },
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"password":"${B64}"}}`,
      owner: 'team-a',
    },
  },
  type: 'Opaque',
  data: { password: B64, user: 'YWRtaW4=' },
  stringData: { extra: 'plain-secret' },
};

describe('redact', () => {
  it('replaces data/stringData values of a Secret, keeping keys and metadata', () => {
    const out = redact({ body: secret });
    expect(out.body.data).toEqual({ password: REDACTED, user: REDACTED });
    expect(out.body.stringData).toEqual({ extra: REDACTED });
    expect(out.body.metadata.labels).toEqual({ app: 'db' });
    expect(out.body.metadata.annotations.owner).toBe('team-a');
    expect(out.body.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe(REDACTED);
    expect(out.body.type).toBe('Opaque');
    // The caller's object is untouched.
    expect(secret.data.password).toBe(B64);
  });

  it('redacts SecretList items (which carry no kind) and watch events', () => {
    const list = { kind: 'SecretList', items: [{ metadata: { name: 'a' }, data: { k: B64 } }] };
    expect(redact(list).items[0]!.data).toEqual({ k: REDACTED });
    const event = { type: 'ADDED', object: secret };
    expect(redact(event).object.data.password).toBe(REDACTED);
  });

  it('redacts JSON-patch ops under /data and /stringData on secrets, and nothing else', () => {
    const patch = [
      { op: 'replace', path: '/data/password', value: B64 },
      { op: 'add', path: '/data', value: { token: B64 } },
      { op: 'add', path: '/stringData/x', value: 'plain' },
      { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
      { op: 'remove', path: '/data/old' },
    ];
    const out = redact({ resource: 'default/secrets/db', body: patch }, 'default/secrets/db');
    expect(out.body).toEqual([
      { op: 'replace', path: '/data/password', value: REDACTED },
      { op: 'add', path: '/data', value: { token: REDACTED } },
      { op: 'add', path: '/stringData/x', value: REDACTED },
      { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
      { op: 'remove', path: '/data/old' },
    ]);
    // On a ConfigMap, /data is ordinary data; only credential-like key names are redacted.
    const cmPatch = [
      { op: 'replace', path: '/data/app.conf', value: 'level=debug' },
      { op: 'replace', path: '/data/db_password', value: 'pw' },
    ];
    expect(redact({ body: cmPatch }, 'default/configmaps/cfg').body).toEqual([
      { op: 'replace', path: '/data/app.conf', value: 'level=debug' },
      { op: 'replace', path: '/data/db_password', value: REDACTED },
    ]);
  });

  it('redacts merge patches on secrets but keeps ConfigMap data', () => {
    const patch = { data: { password: B64 }, metadata: { labels: { a: 'b' } } };
    expect(redact({ body: patch }, 'prod/secrets/db').body).toEqual({
      data: { password: REDACTED },
      metadata: { labels: { a: 'b' } },
    });
    const cm = { kind: 'ConfigMap', data: { 'app.conf': 'level=debug' } };
    expect(redact({ body: cm }, 'prod/configmaps/app').body).toEqual(cm);
  });

  it('redacts credential-like string fields case-insensitively, and Bearer values anywhere', () => {
    const out = redact({
      headers: { Authorization: 'Basic Zm9vOmJhcg==', 'X-Auth-Token': 'abc', accept: 'application/json' },
      spec: { token: 'tok', Password: 'pw', client_secret: 'cs', secretName: 'db-creds' },
      note: 'Bearer eyJhbGciOi.payload.sig',
      tokenExpirationSeconds: 3600,
      automountServiceAccountToken: false,
    });
    expect(out.headers).toEqual({
      Authorization: REDACTED,
      'X-Auth-Token': REDACTED,
      accept: 'application/json',
    });
    expect(out.spec).toEqual({
      token: REDACTED,
      Password: REDACTED,
      client_secret: REDACTED,
      secretName: 'db-creds',
    });
    expect(out.note).toBe(REDACTED);
    expect(out.tokenExpirationSeconds).toBe(3600);
    expect(out.automountServiceAccountToken).toBe(false);
  });

  it('redacts raw string bodies: JSON Secrets structurally, unparsable Secret bodies entirely', () => {
    const json = redact({ body: JSON.stringify(secret) });
    expect(json.body).not.toContain(B64);
    expect(JSON.parse(json.body).data.password).toBe(REDACTED);
    const yaml = redact({ body: `stringData:\n  password: ${B64}\n` }, 'default/secrets/db');
    expect(yaml.body).toBe(REDACTED);
    const deploy = { kind: 'Deployment', spec: { replicas: 3 } };
    expect(redact({ body: JSON.stringify(deploy) }).body).toBe(JSON.stringify(deploy));
  });
});

describe('AuditLog applies redaction before writing', () => {
  it('no secret value reaches the file, the record still verifies', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'actions-log.jsonl');
      const log = await AuditLog.open({ path, logger: silent });
      const patch = { data: { password: B64 } };
      const r = await log.append({
        event: 'received',
        action: 'patch v1 secrets',
        resource: 'default/secrets/db',
        body: patch,
        authorization: 'Bearer abc.def',
      });
      await log.append({ event: 'received', resource: 'default/secrets/db', body: secret });
      await log.close();
      const text = await readFile(path, 'utf8');
      expect(text).not.toContain(B64);
      expect(text).not.toContain('plain-secret');
      expect(text).not.toContain('abc.def');
      expect(r.body).toEqual({ data: { password: REDACTED } });
      expect(patch.data.password).toBe(B64);
      expect((await verifyAuditFile(path)).ok).toBe(true);
    } finally {
      await cleanup();
    }
  });
});

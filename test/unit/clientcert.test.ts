import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { certCredentials, readCertCaller, tokenCredentials } from '../../src/clientcert.js';
import { parseRequest } from '../../src/kube/request.js';
import { StatusError } from '../../src/kube/status.js';
import { selfSigned } from './self-signed.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Two client CAs (two clusters) and a certificate the first one issued. */
let caA: X509Certificate;
let caB: X509Certificate;
let leaf: X509Certificate;

beforeAll(() => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kg-cert-'));
  const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: d, stdio: 'ignore' });
  for (const ca of ['a', 'b']) selfSigned(d, ca, `client-ca-${ca}`);
  ssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    '/CN=carol/O=dev',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'a.crt',
    '-CAkey',
    'a.key',
    '-CAcreateserial',
    '-out',
    'leaf.crt',
    '-days',
    '1',
  );
  const read = (f: string) => new X509Certificate(readFileSync(path.join(d, f)));
  [caA, caB, leaf] = [read('a.crt'), read('b.crt'), read('leaf.crt')];
});

interface FakeCert {
  subject?: Record<string, string | string[]>;
  ext_key_usage?: string[];
  valid_from?: string;
  valid_to?: string;
}

/** A request on a TLS socket whose peer sent `cert` (or none), verified or not. */
function fakeReq(cert: FakeCert | null, o: { authorized?: boolean; headers?: Record<string, string> } = {}) {
  const headers = { host: 'kubegate', ...(o.headers ?? {}) };
  const rawHeaders = Object.entries(headers).flat();
  const socket = {
    authorized: o.authorized ?? true,
    authorizationError: o.authorized === false ? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' : undefined,
    getPeerCertificate: () =>
      cert
        ? {
            raw: leaf.raw,
            fingerprint256: leaf.fingerprint256,
            ext_key_usage: [CLIENT_AUTH],
            valid_from: leaf.validFrom,
            valid_to: leaf.validTo,
            ...cert,
          }
        : {},
  };
  const req = { method: 'GET', url: '/api/v1/namespaces/default/pods', headers, rawHeaders, socket };
  return req as unknown as IncomingMessage;
}

const own = () => 'Bearer kubegate-own';

/** The credentials kubegate sends upstream for this caller (authenticate.ts does the same). */
function apply(req: IncomingMessage, ownAuth: () => string | undefined = own) {
  const cert = readCertCaller(req, [caA]);
  return cert
    ? certCredentials(cert, parseRequest(req), req.headers, ownAuth)
    : tokenCredentials(req.headers);
}

function refusal(req: IncomingMessage, ownAuth?: () => string | undefined): StatusError {
  try {
    apply(req, ownAuth);
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('client certificates: verify, then act upstream by impersonation', () => {
  it('no certificate: the request is left exactly as it came (token callers)', () => {
    const req = fakeReq(null, { headers: { authorization: 'Bearer t', 'impersonate-user': 'x' } });
    expect(readCertCaller(req, [caA])).toBeUndefined();
    expect(apply(req)).toEqual({ authorization: 'Bearer t', 'impersonate-user': 'x' });
  });

  it('a verified certificate: kubegate credentials + Impersonate-User/Group + the certificate in extras', () => {
    const req = fakeReq({ subject: { CN: 'carol', O: ['dev', 'team/ü'] } });
    expect(apply(req)).toEqual({
      authorization: 'Bearer kubegate-own',
      'impersonate-user': 'carol',
      'impersonate-group': ['dev', 'team/ü'],
      'impersonate-extra-kubegate.dev%2fclient-cert-subject': 'CN=carol,O=dev,O=team/%C3%BC',
      'impersonate-extra-kubegate.dev%2fclient-cert-sha256': leaf.fingerprint256
        .replace(/:/g, '')
        .toLowerCase(),
    });
    expect(readCertCaller(req, [caA])).toMatchObject({ username: 'carol', groups: ['dev', 'team/ü'] });
  });

  it("a certificate of another cluster's CA, or on a cluster with no client CA, is 401", () => {
    const req = fakeReq({ subject: { CN: 'carol', O: 'dev' } });
    expect(readCertCaller(req, [caB, caA])).toMatchObject({ username: 'carol' });
    for (const cas of [[caB], [], undefined]) {
      let err: unknown;
      try {
        readCertCaller(req, cas);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe(401);
      expect((err as StatusError).message).toContain("not issued by this cluster's client CA");
    }
  });

  it('an unverified certificate (other CA, expired) is 401, never anonymous', () => {
    const e = refusal(fakeReq({ subject: { CN: 'admin', O: 'system:masters' } }, { authorized: false }));
    expect(e.code).toBe(401);
    expect(e.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('a certificate that expired (or is not yet valid) since its handshake is 401 on the next request', () => {
    const verified = { subject: { CN: 'carol', O: 'dev' } };
    expect(readCertCaller(fakeReq(verified), [caA])?.username).toBe('carol');
    const expired = { ...verified, valid_to: new Date(Date.now() - 1000).toUTCString() };
    expect(() => readCertCaller(fakeReq(expired), [caA])).toThrow(
      /client certificate not accepted: it expired/,
    );
    const early = { ...verified, valid_from: new Date(Date.now() + 60_000).toUTCString() };
    expect(() => readCertCaller(fakeReq(early), [caA])).toThrow(/not valid before/);
    expect(refusal(fakeReq(expired)).code).toBe(401);
  });

  it('no client-auth usage, no CN, an empty CN or two CNs: 401', () => {
    const certs: FakeCert[] = [
      { subject: { CN: 'carol' }, ext_key_usage: ['1.3.6.1.5.5.7.3.1'] },
      { subject: { O: 'dev' } },
      { subject: { CN: '' } },
      { subject: { CN: ['carol', 'admin'] } },
    ];
    for (const cert of certs) {
      expect(refusal(fakeReq(cert)).code).toBe(401);
    }
  });

  it('a certificate plus an Authorization header: 400', () => {
    const e = refusal(fakeReq({ subject: { CN: 'carol' } }, { headers: { authorization: 'Bearer t' } }));
    expect(e.code).toBe(400);
  });

  it('a certificate plus any Impersonate-* header: 403 (kubegate does the impersonating)', () => {
    for (const h of [
      'impersonate-user',
      'impersonate-group',
      'impersonate-uid',
      'impersonate-extra-scopes',
    ]) {
      expect(refusal(fakeReq({ subject: { CN: 'carol' } }, { headers: { [h]: 'admin' } })).code).toBe(403);
    }
  });

  it('kubegate without credentials of its own cannot act for a certificate caller: 503', () => {
    expect(refusal(fakeReq({ subject: { CN: 'carol' } }), () => undefined).code).toBe(503);
  });
});

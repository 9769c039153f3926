import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { checkConfigFiles, listenError } from '../../src/config-files.js';

const minimal = {
  tls: { cert: 'serving.crt', key: 'serving.key' },
  policy: { bundle: 'policy' },
  approvers: { jwks: 'approvers.jwks.json' },
  audit: { path: 'audit/actions-log.jsonl' },
};

describe('config errors name the key', () => {
  it('enum values list what is allowed', () => {
    expect(() => parseConfig({ ...minimal, state: { type: 'sqlite', path: 'x' } })).toThrow(
      /state\.type: expected one of file, kubernetes/,
    );
    expect(() => parseConfig({ ...minimal, audit: { ...minimal.audit, fsync: 'never' } })).toThrow(
      /audit\.fsync: expected one of group, each/,
    );
    expect(() =>
      parseConfig({ ...minimal, audit: { ...minimal.audit, sinks: [{ type: 'kafka' }] } }),
    ).toThrow(/audit\.sinks\.0\.type: expected one of stdout, pino, webhook/);
  });

  it('a missing or wrong file is named by its key, every one at once', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kg-cfg-'));
    writeFileSync(path.join(dir, 'serving.key'), 'k');
    mkdirSync(path.join(dir, 'approvers.jwks.json'));
    mkdirSync(path.join(dir, 'policy'));
    const c = parseConfig(minimal, dir);
    let message = '';
    try {
      checkConfigFiles(c);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`tls.cert: no such file ${path.join(dir, 'serving.crt')}`);
    expect(message).toContain(`policy.bundle: no such file ${path.join(dir, 'policy', 'policy.wasm')}`);
    expect(message).toContain('approvers.jwks: ');
    expect(message).toContain('is a directory, not a file');
    expect(message).not.toContain('tls.key');
  });

  it('a port in use names listen.port', () => {
    const c = parseConfig({ ...minimal, listen: { port: 8443 } });
    const err = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(listenError(c, err).message).toBe('listen.port: 127.0.0.1:8443 is already in use');
  });
});

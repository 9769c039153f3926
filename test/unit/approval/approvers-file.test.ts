import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Approvers, approverChanges, loadApprovers } from '../../../src/approval/approvers-file.js';

const key = (name: string, groups?: string[]) => ({
  kty: 'OKP',
  crv: 'Ed25519',
  x: 'AAAA',
  kid: `${name}-1`,
  name,
  ...(groups ? { groups } : {}),
});

function file(content: unknown): string {
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'kg-approvers-')), 'approvers.jwks.json');
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { lines, logger };
}

const open: Approvers[] = [];
afterEach(() => {
  for (const a of open.splice(0)) a.close();
});

describe('the approvers file', () => {
  it('loads keys with their groups', () => {
    expect(loadApprovers(file({ keys: [key('alice', ['sre'])] })).keys[0]!.groups).toEqual(['sre']);
  });

  it('refuses what it cannot trust, saying which key', () => {
    expect(() => loadApprovers(file({ keys: [{ ...key('a'), d: 'secret' }] }))).toThrow(
      /keys\[0\] \(a-1\): holds a private key/,
    );
    expect(() => loadApprovers(file({ keys: [key('a', 'sre' as unknown as string[])] }))).toThrow(
      /groups must be a list/,
    );
    expect(() => loadApprovers(file({ keys: [{ kid: 'x' }] }))).toThrow(/every key needs kid and name/);
    expect(() => loadApprovers(file('{'))).toThrow(/approvers\.jwks\.json/);
    expect(() => loadApprovers(file({}))).toThrow(/expected \{"keys"/);
  });

  it('says who was added, removed or regrouped', () => {
    const before = { keys: [key('alice', ['sre']), key('bob')] };
    const after = { keys: [key('alice', ['sre', 'security']), key('carol')] };
    expect(approverChanges(before, after)).toEqual({
      added: ['carol (carol-1)'],
      removed: ['bob (bob-1)'],
      regrouped: ['alice (alice-1)'],
    });
  });

  it('reloads when the file is replaced, logs the change, and keeps the old keys on a broken file', async () => {
    const f = file({ keys: [key('alice')] });
    const { lines, logger } = capture();
    const a = Approvers.open(f, logger);
    open.push(a);
    a.watch();
    // an editor's way: write a new file beside it and rename it over the old one
    writeFileSync(`${f}.new`, JSON.stringify({ keys: [key('alice'), key('bob', ['payments-oncall'])] }));
    renameSync(`${f}.new`, f);
    await expect.poll(() => a.jwks.keys.map((k) => k.name), { timeout: 3000 }).toEqual(['alice', 'bob']);
    expect(lines.find((l) => l.msg === 'approvers reloaded')).toMatchObject({
      added: ['bob (bob-1)'],
      removed: [],
    });
    writeFileSync(f, '{"keys": [');
    await expect
      .poll(() => lines.some((l) => l.msg === 'approvers file refused; the approvers in force stay'), {
        timeout: 3000,
      })
      .toBe(true);
    expect(a.jwks.keys.map((k) => k.name)).toEqual(['alice', 'bob']);
  });
});

describe('the approvers file mounted from a Secret', () => {
  it('reloads when the kubelet swaps the ..data link', async () => {
    const { symlinkSync, mkdirSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kg-secret-'));
    for (const v of ['v1', 'v2']) mkdirSync(path.join(dir, `..${v}`));
    writeFileSync(path.join(dir, '..v1', 'approvers.jwks.json'), JSON.stringify({ keys: [key('alice')] }));
    writeFileSync(
      path.join(dir, '..v2', 'approvers.jwks.json'),
      JSON.stringify({ keys: [key('alice'), key('bob')] }),
    );
    symlinkSync('..v1', path.join(dir, '..data'));
    symlinkSync('..data/approvers.jwks.json', path.join(dir, 'approvers.jwks.json'));
    const a = Approvers.open(path.join(dir, 'approvers.jwks.json'), capture().logger);
    open.push(a);
    a.watch();
    // the kubelet's atomic writer: a new link, renamed over ..data
    symlinkSync('..v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await expect.poll(() => a.jwks.keys.length, { timeout: 3000 }).toBe(2);
  });
});

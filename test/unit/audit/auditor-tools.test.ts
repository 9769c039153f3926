// The auditor's tools behave like Unix tools: quiet on a closed pipe, a table beside JSON,
// no "verified" beside a failure, and a log without checkpoints says nothing was signed.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAuditCommand } from '../../../src/audit/cli.js';
import { generateAuditKey, loadAuditKey } from '../../../src/audit/keys.js';
import { AuditLog } from '../../../src/audit/log.js';
import { silent, sink, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let signed: string;
let unsigned: string;
let pubPath: string;

async function write(path: string, signingKey?: Awaited<ReturnType<typeof loadAuditKey>>, n = 12) {
  const log = await AuditLog.open({
    path,
    ...(signingKey ? { signingKey } : {}),
    checkpointEvery: 5,
    logger: silent,
  });
  for (let i = 0; i < n; i++)
    await log.append({
      event: i % 2 ? 'forwarded' : 'held',
      request_id: `req-${i}`,
      risk: 'MEDIUM',
      user: 'agent',
      action: 'create v1 configmaps',
      resource: `team/configmaps/c${i}`,
      ...(i === 3 ? { approvers: ['alice', 'bob'] } : {}),
    });
  await log.close();
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  const key = await generateAuditKey(join(dir, 'keys'));
  pubPath = key.publicKeyPath;
  signed = join(dir, 'signed.jsonl');
  unsigned = join(dir, 'unsigned.jsonl');
  await write(signed, await loadAuditKey(key.privateKeyPath));
  await write(unsigned);
});
afterEach(() => cleanup());

async function run(...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await runAuditCommand(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text(), all: out.text() + err.text() };
}

describe('audit verify', () => {
  it('with the wrong key fails and never also says verified', async () => {
    const other = await generateAuditKey(join(dir, 'other'));
    const r = await run('verify', signed, '--key', other.publicKeyPath);
    expect(r.code).toBe(1);
    expect(r.all).toMatch(/FAILED at seq \d+: bad signature/);
    expect(r.all).toMatch(/NOT verified \(see the failure above\)/);
    expect(r.all).not.toMatch(/signatures verified/);
  });

  it('a log with no checkpoint says that nothing was signed, with or without --key', async () => {
    for (const args of [[], ['--key', pubPath]]) {
      const r = await run('verify', unsigned, ...args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/no checkpoint in the file: nothing was signed/);
      expect(r.stdout).not.toMatch(/signatures verified/);
    }
  });
});

describe('audit export and tail -o table', () => {
  it('prints a header and one row per record, approvers and all', async () => {
    const r = await run('export', signed, '-o', 'table');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+SEQ\s+EVENT\s+CLUSTER\s+RISK\s+USER\s+REQUEST\s+ACTION\s+RESOURCE$/);
    const row = lines.find((l) => l.includes('req-3'));
    expect(row).toMatch(
      /forwarded\s+-\s+MEDIUM\s+agent\s+req-3\s+create v1 configmaps\s+team\/configmaps\/c3 {2}by alice,bob/,
    );
    const tail = await run('tail', signed, '-n', '2', '-o', 'table');
    expect(tail.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('refuses an unknown format, listing the known ones', async () => {
    const r = await run('export', signed, '-o', 'yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-o: expected one of json, table/);
  });
});

describe('kubegate audit export | head', () => {
  it('ends quietly when the reader stops early', { timeout: 60_000 }, async () => {
    // enough records that export is still writing when head has gone
    const big = join(dir, 'big.jsonl');
    await writeFile(big, (await readFile(signed, 'utf8')).repeat(2000));
    const out = execFileSync(
      'bash',
      ['-o', 'pipefail', '-c', `node dist/cli/kubegate.js audit export ${big} 2>&1 | head -1`],
      { encoding: 'utf8' },
    );
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).not.toMatch(/EPIPE|Error/);
  });
});

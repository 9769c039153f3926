import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dir, kubectl } from './helpers.js';

// The README's shell blocks, as a newcomer would paste them, against the running `kubegate dev`.

const readme = readFileSync('README.md', 'utf8');
const shellBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** A working directory laid out like the repository after `npm start`: .work/dev and dist. */
function workdir(): string {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'kg-readme-'));
  mkdirSync(path.join(cwd, '.work'));
  symlinkSync(dir, path.join(cwd, '.work', 'dev'));
  symlinkSync(path.resolve('dist'), path.join(cwd, 'dist'));
  return cwd;
}

function bash(script: string, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-e', '-c', script], { cwd, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('the README', () => {
  it('names only npm scripts that exist', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    const npm = shellBlocks.flatMap((b) => [...b.matchAll(/^npm (?:run )?([\w:]+)/gm)].map((m) => m[1]!));
    expect(npm.length).toBeGreaterThan(0);
    for (const s of npm) expect(Object.keys(scripts)).toContain(s);
  });

  it('"Try it" runs as written: held, shown, approved, run once, and can-i warns', async () => {
    const block = shellBlocks.find((b) => b.includes('source .work/dev/env'));
    expect(block).toBeDefined();
    await kubectl(['delete', 'deployment', 'web', '-n', 'default', '--ignore-not-found'], { as: 'admin' });
    const r = await bash(block!, workdir());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/held for approval as req-/);
    expect(r.out).toMatch(/approved req-/);
    expect(r.out).toMatch(/deployment\.apps\/web created/);
    expect(r.out).toMatch(/Warning: kubegate: delete deployments would be held for approval/);
    await kubectl(['delete', 'deployment', 'web', '-n', 'default', '--ignore-not-found'], { as: 'admin' });
  });

  it('the simulated-node block runs as written: a Deployment runs, exec prints hello after approval, play replays it', async () => {
    const block = shellBlocks.find((b) => b.includes('exec deploy/demo'));
    expect(block).toBeDefined();
    await kubectl(['delete', 'deployment', 'demo', '-n', 'default', '--ignore-not-found'], { as: 'admin' });
    const r = await bash(block!, workdir());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/deployment\.apps\/demo created/);
    expect(r.out).toMatch(/successfully rolled out/);
    expect(r.out.match(/^hello$/gm)?.length, r.out).toBeGreaterThanOrEqual(2);
    await kubectl(['delete', 'deployment', 'demo', '-n', 'default', '--ignore-not-found'], { as: 'admin' });
  });

  it('the plans block runs as written: submitted, shown, approved once, run to the end', async () => {
    const block = shellBlocks.find((b) => b.includes('plan submit'));
    expect(block).toBeDefined();
    const r = await bash(block!, workdir());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/all 2 match/);
    expect(r.out).toMatch(/plan-\d{8}-\d{3} succeeded/);
  });

  it('the console block runs as written: a one-time enrolment link for alice', async () => {
    const block = shellBlocks.find((b) => b.includes('passkey enroll'));
    expect(block).toBeDefined();
    const r = await bash(block!, workdir());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/https:\/\/localhost:\d+\/kubegate\/ui\/\S+#\S+/);
  });
});

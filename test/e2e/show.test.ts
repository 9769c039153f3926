import { describe, expect, it } from 'vitest';
import { approveCli, freshNamespace, kubectl, pending, rolledOut, waitForPending } from './helpers.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });

/** Holds an agent command, returns what `approve-cli show` prints for it, then rejects it. */
async function shownFor(args: string[], target: string): Promise<string> {
  const run = kubectl(args);
  const p = await waitForPending(target);
  const show = await approveCli(['show', p.id]);
  expect(show.code, show.stderr).toBe(0);
  expect((await approveCli(['reject', p.id, '--reason', 'seen'])).code).toBe(0);
  expect((await run).code).not.toBe(0);
  return show.stdout;
}

/** The newest pending request for `target` that is not one of `known`. */
async function newPending(target: string, known: string[]): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const hit = (await pending()).filter((p) => p.target === target && !known.includes(p.id)).pop();
    if (hit) return hit.id;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no new pending request for ${target}`);
}

describe('approvers see exactly what they approve (real kubectl, protobuf bodies included)', () => {
  it('a protobuf create of a Deployment shows its real name and image, and the dry-run result', async () => {
    const ns = await freshNamespace('show-deploy');
    const out = await shownFor(
      ['create', 'deployment', 'web', '--image=nginx:1.27', '-n', ns],
      `${ns}/deployments/web`,
    );
    expect(out).toMatch(new RegExp(`${ns}/web`));
    expect(out).toMatch(/nginx:1\.27/);
    expect(out).not.toMatch(/generated name/);
    expect(out).not.toMatch(/CANNOT BE SHOWN/);
    expect(out).toMatch(/server-side dry run/);
  });

  it('a ConfigMap create shows its data; a Secret create shows its keys but never the values', async () => {
    const ns = await freshNamespace('show-data');
    const cm = await shownFor(
      ['create', 'configmap', 'cfg', '--from-literal=mode=blue', '-n', ns],
      `${ns}/configmaps/cfg`,
    );
    expect(cm).toMatch(/mode/);
    expect(cm).toMatch(/blue/);
    const secret = await shownFor(
      ['create', 'secret', 'generic', 'creds', '--from-literal=password=hunter2-very-secret', '-n', ns],
      `${ns}/secrets/creds`,
    );
    expect(secret).toMatch(/creds/);
    expect(secret).toMatch(/password/);
    expect(secret).not.toMatch(/hunter2-very-secret/);
    expect(secret).not.toContain(Buffer.from('hunter2-very-secret').toString('base64'));
  });

  it('a Namespace create shows its name', async () => {
    const name = `show-ns-${process.pid}`;
    const out = await shownFor(['create', 'namespace', name], `namespaces/${name}`);
    expect(out).toContain(name);
    expect(out).not.toMatch(/CANNOT BE SHOWN/);
  });

  it('scale, set image, label and delete each show what they change, against the live object', async () => {
    const ns = await freshNamespace('show-changes');
    expect(
      (await admin(['create', 'deployment', 'api', '--image=nginx:1.26', '--replicas=1', '-n', ns])).code,
    ).toBe(0);
    const target = `${ns}/deployments/api`;
    const scale = await shownFor(['scale', 'deployment', 'api', '--replicas=3', '-n', ns], target);
    expect(scale).toMatch(/spec\.replicas: 1 -> 3/);
    expect(scale).not.toMatch(/kind.*Deployment.*Scale/);
    const image = await shownFor(['set', 'image', 'deployment/api', 'nginx=nginx:1.27', '-n', ns], target);
    expect(image).toMatch(/nginx:1\.26/);
    expect(image).toMatch(/nginx:1\.27/);
    const label = await shownFor(['label', 'deployment', 'api', 'tier=web', '-n', ns], target);
    expect(label).toMatch(/tier/);
    const del = await shownFor(['delete', 'deployment', 'api', '-n', ns], target);
    expect(del).toMatch(/would delete/i);
    expect(del).toMatch(/api/);
  });
});

describe('approvals that go stale are not dead ends', () => {
  it('several approved changes to one Deployment all end applied, one fresh approval each for those whose object moved', async () => {
    const ns = await freshNamespace('stale');
    expect(
      (await admin(['create', 'deployment', 'app', '--image=nginx:1.26', '--replicas=1', '-n', ns])).code,
    ).toBe(0);
    await rolledOut(ns, 'app');
    const target = `${ns}/deployments/app`;
    const commands = [
      ['scale', 'deployment', 'app', '--replicas=2', '-n', ns],
      ['set', 'image', 'deployment/app', 'nginx=nginx:1.27', '-n', ns],
      ['label', 'deployment', 'app', 'tier=web', '-n', ns],
    ];
    // all three held and approved against the same version of the object
    const ids: string[] = [];
    for (const c of commands) {
      const r = await kubectl(c, { timeoutMs: 30_000 });
      expect(r.code).not.toBe(0);
      const id = await newPending(target, ids);
      ids.push(id);
      expect((await approveCli(['approve', id])).code).toBe(0);
    }
    // the first runs; the others find the object moved: each needs (and gets) one fresh approval
    await approvedOrRun(commands[0]!, ids[0]!, false);
    await rolledOut(ns, 'app');
    await approvedOrRun(commands[1]!, ids[1]!, true);
    await rolledOut(ns, 'app');
    await approvedOrRun(commands[2]!, ids[2]!, true);
    const app = JSON.parse((await admin(['get', 'deployment', 'app', '-n', ns, '-o', 'json'])).stdout);
    expect(app.spec.replicas).toBe(2);
    expect(app.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(app.metadata.labels.tier).toBe('web');
  });
});

/** Re-runs an approved command; when its object moved (`fresh`), approves it once more while held. */
async function approvedOrRun(args: string[], id: string, fresh: boolean): Promise<void> {
  if (!fresh) {
    const r = await kubectl(args);
    expect(r.code, r.stderr).toBe(0);
    return;
  }
  const run = kubectl(args);
  await new Promise((r) => setTimeout(r, 1000)); // held again: the approval was for an older version
  const show = await approveCli(['show', id]);
  expect(show.stdout).toMatch(/changed since/);
  const again = await approveCli(['approve', id]);
  expect(again.code, again.stderr).toBe(0);
  const r = await run;
  expect(r.code, r.stderr).toBe(0);
}

import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveCli, devEnv, freshNamespace, kubectl, rolledOut } from './helpers.js';

// An AI agent's view: the SDK's own MCP client spawns `kubegate mcp` with the agent's kubeconfig.
// Everything the tools do goes through kubegate as the agent.

const admin = (args: string[]) => kubectl(args, { as: 'admin' });
let client: Client;

type Content = { content: { type: string; text: string }[]; isError?: boolean };
const textOf = (r: unknown) => (r as Content).content.map((c) => c.text).join('\n');

beforeAll(async () => {
  const env = devEnv();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.resolve('dist/cli/kubegate.js'), 'mcp'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KUBECONFIG: env.KUBECONFIG! },
    stderr: 'pipe',
  });
  client = new Client({ name: 'kubegate-e2e', version: '1.0.0' });
  await client.connect(transport);
});

afterAll(async () => {
  await client?.close();
});

describe('kubegate mcp', () => {
  it('lists its tools, the reads annotated read-only', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual([
      'describe',
      'events',
      'get',
      'list',
      'logs',
      'plan_status',
      'propose_plan',
      'run_plan',
      'stop_plan',
    ]);
    for (const n of ['get', 'list', 'describe', 'logs', 'events'])
      expect(tools.find((t) => t.name === n)?.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'run_plan')?.annotations?.destructiveHint).toBe(true);
  });

  it('reads through kubegate as the agent', async () => {
    const ns = await freshNamespace('mcpread');
    expect((await admin(['create', 'deployment', 'web', '--image=nginx', '-n', ns])).code).toBe(0);
    await rolledOut(ns, 'web');
    const list = await client.callTool({
      name: 'list',
      arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns },
    });
    expect(textOf(list)).toContain(`${ns}/web`);
    const pods = await client.callTool({
      name: 'list',
      arguments: { apiVersion: 'v1', kind: 'Pod', namespace: ns },
    });
    expect((pods as Content).isError).toBeFalsy();
    const missing = await client.callTool({
      name: 'get',
      arguments: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'nope' },
    });
    expect((missing as Content).isError).toBe(true);
    expect(textOf(missing)).toMatch(/not found/);
  });

  it('proposes a plan; without approval run_plan changes nothing and says what is needed; after approve-cli it runs', async () => {
    const ns = await freshNamespace('mcpplan');
    const plan = {
      title: 'config for the agent',
      why: 'the agent needs a setting',
      steps: [
        {
          apply: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'agent-config', namespace: ns },
            data: { level: 'debug' },
          },
        },
      ],
      checks: [
        {
          equals: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            namespace: ns,
            name: 'agent-config',
            field: 'data.level',
            value: 'debug',
          },
        },
      ],
    };
    const proposed = textOf(await client.callTool({ name: 'propose_plan', arguments: { plan } }));
    const id = /plan-\d{8}-\d{3,}/.exec(proposed)?.[0];
    expect(id, proposed).toBeDefined();
    expect(proposed).toContain(`approve-cli approve ${id}`);

    const early = await client.callTool({ name: 'run_plan', arguments: { id } });
    expect((early as Content).isError).toBe(true);
    expect(textOf(early)).toMatch(/not approved yet.*approve-cli approve/s);
    expect((await admin(['get', 'configmap', 'agent-config', '-n', ns])).code).not.toBe(0);

    expect((await approveCli(['approve', id!])).code).toBe(0);
    const ran = textOf(await client.callTool({ name: 'run_plan', arguments: { id } }));
    expect(ran).toMatch(/SUCCEEDED/);
    expect(
      (await admin(['get', 'configmap', 'agent-config', '-n', ns, '-o', 'jsonpath={.data.level}'])).stdout,
    ).toBe('debug');
    expect(textOf(await client.callTool({ name: 'plan_status', arguments: { id } }))).toMatch(/\[done\]/);
  });

  it('a bad plan comes back as a tool error the model can read', async () => {
    const r = await client.callTool({
      name: 'propose_plan',
      arguments: { plan: { title: 'x', why: 'y', steps: [{ run: 'kubectl delete ns prod' }] } },
    });
    expect((r as Content).isError).toBe(true);
    expect(textOf(r)).toMatch(/invalid plan/);
  });
});

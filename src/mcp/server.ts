import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { KubegateCallError, RequesterClient } from '../plan/client.js';
import { renderPlan } from '../plan/render.js';
import type { PlanView } from '../wire/plan-view.js';
import { KubeReads } from './reads.js';

// An MCP server for AI agents that holds no credentials of its own: every tool speaks through
// kubegate with the agent's kubeconfig, so the gate (policy, approvals, audit) applies to each
// call and no tool can do what kubectl through kubegate could not.

type Shown = PlanView & { needs?: string };
type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const text = (t: string, isError = false): ToolResult => ({
  content: [{ type: 'text', text: t }],
  ...(isError ? { isError } : {}),
});

/** Every failure comes back as a tool error with kubegate's own message (the approval command, the Status). */
async function tool(fn: () => Promise<string>): Promise<ToolResult> {
  try {
    return text(await fn());
  } catch (err) {
    const msg =
      err instanceof KubegateCallError
        ? `kubegate refused (HTTP ${err.status}): ${err.message}`
        : (err as Error).message;
    return text(msg, true);
  }
}

const ref = {
  apiVersion: z.string().describe('for example v1 or apps/v1'),
  kind: z.string().describe('for example Pod, Deployment, ConfigMap'),
  namespace: z.string().optional(),
};
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

function readTools(server: McpServer, reads: KubeReads): void {
  server.registerTool(
    'get',
    {
      description: 'Read one object (read-only).',
      inputSchema: { ...ref, name: z.string() },
      annotations: READ,
    },
    (a) => tool(async () => JSON.stringify(await reads.get(a), null, 2)),
  );
  server.registerTool(
    'list',
    {
      description: 'List objects of a kind, with their status in one line each (read-only).',
      inputSchema: { ...ref, labelSelector: z.string().optional() },
      annotations: READ,
    },
    (a) => tool(async () => (await reads.list(a)).join('\n') || 'none'),
  );
  server.registerTool(
    'describe',
    {
      description: 'An object and the events about it (read-only).',
      inputSchema: { ...ref, name: z.string() },
      annotations: READ,
    },
    (a) => tool(() => reads.describe(a)),
  );
  server.registerTool(
    'logs',
    {
      description: "A pod's log (read-only).",
      inputSchema: {
        namespace: z.string(),
        pod: z.string(),
        container: z.string().optional(),
        tailLines: z.number().int().min(1).max(5000).optional(),
      },
      annotations: READ,
    },
    (a) => tool(() => reads.logs(a)),
  );
  server.registerTool(
    'events',
    {
      description: 'Recent events in a namespace, optionally about one object (read-only).',
      inputSchema: { namespace: z.string(), name: z.string().optional() },
      annotations: READ,
    },
    (a) => tool(async () => (await reads.events(a.namespace, a.name)).join('\n') || 'no events'),
  );
}

const FINAL = new Set(['succeeded', 'failed', 'stopped', 'cancelled', 'rejected', 'refused']);

function planTools(server: McpServer, client: RequesterClient): void {
  const path = (id: string) => `/kubegate/v1/my/plans/${encodeURIComponent(id)}`;
  server.registerTool(
    'propose_plan',
    {
      description:
        'Propose a change as a plan: {title, why, steps: [{apply|scale|patch|delete|restart, checks?}], rollback?, checks?, monitor?, estimate?} (`kubegate plan example` shows one). kubegate dry-runs and decides every step and holds the plan for a human approval; nothing runs yet. Returns the plan id, risk, each step and what approval is needed.',
      inputSchema: { plan: z.record(z.string(), z.unknown()) },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (a) =>
      tool(async () => renderPlan(await client.ok<Shown>('POST', '/kubegate/v1/my/plans', { plan: a.plan }))),
  );
  server.registerTool(
    'plan_status',
    {
      description: 'A plan, its steps and what it needs next (read-only).',
      inputSchema: { id: z.string() },
      annotations: READ,
    },
    (a) => tool(async () => renderPlan(await client.ok<Shown>('GET', path(a.id)))),
  );
  server.registerTool(
    'run_plan',
    {
      description:
        'Run an approved plan step by step (stops at the first failure). Waits up to waitSeconds (default 120) for it to end.',
      inputSchema: { id: z.string(), waitSeconds: z.number().int().min(0).max(600).optional() },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (a) =>
      tool(async () => {
        let p = await client.ok<Shown>('POST', `${path(a.id)}/run`);
        const until = Date.now() + (a.waitSeconds ?? 120) * 1000;
        while (!FINAL.has(p.status) && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 1000));
          p = await client.ok<Shown>('GET', path(a.id));
        }
        return renderPlan(p);
      }),
  );
  server.registerTool(
    'stop_plan',
    {
      description: 'Stop a running plan after its current step (a held plan is cancelled).',
      inputSchema: { id: z.string() },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (a) => tool(async () => renderPlan(await client.ok<Shown>('POST', `${path(a.id)}/stop`))),
  );
}

export async function runMcpServer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      "kubegate mcp [--kubeconfig FILE] [--context NAME]: an MCP server over stdio; every tool speaks through kubegate as the kubeconfig's user\n",
    );
    return 0;
  }
  const client = RequesterClient.fromKubeconfig(values.kubeconfig, values.context);
  const server = new McpServer({ name: 'kubegate', version: '0.1.0' });
  readTools(server, new KubeReads(client));
  planTools(server, client);
  await server.connect(new StdioServerTransport());
  return -1; // serve until stdin closes
}

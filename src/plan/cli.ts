import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PlanView } from '../wire/plan-view.js';
import type { PendingRequest } from '../wire/request-view.js';
import { RequesterClient } from './client.js';
import { parsePlan } from './format.js';
import { EXAMPLE_PLAN, renderPlan } from './render.js';

export const PLAN_USAGE = `kubegate plan — propose a change as a whole, have it approved, run it step by step

Usage (with the kubeconfig that points at kubegate: KUBECONFIG, --kubeconfig, --context):
  kubegate plan submit FILE              dry-run and decide every step; hold the plan for approval
  kubegate plan submit -f MANIFESTS [--title T]
                                         a multi-document manifest file as one plan (server-side apply)
  kubegate plan status [ID] [-o json]    your plans, or one plan with its steps
  kubegate plan run ID [--detach]        run an approved plan; follows it until it ends
  kubegate plan stop ID                  finish the current step, skip the rest (a held plan is cancelled)
  kubegate plan example                  a commented plan that runs as is against kubegate dev
  kubegate requests [-o json]            your own requests: pending, approved, rejected (why), run
`;

type Out = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
type Shown = PlanView & { needs?: string };

const common = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  output: { type: 'string', short: 'o' },
  file: { type: 'string', short: 'f' },
  title: { type: 'string' },
  detach: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINAL = new Set(['succeeded', 'failed', 'stopped', 'cancelled', 'rejected', 'refused']);

/** Prints each step's change of status until the plan ends; exit 0 only when it succeeded. */
async function follow(client: RequesterClient, id: string, io: Out): Promise<number> {
  const seen = new Map<number, string>();
  for (;;) {
    const p = await client.ok<Shown>('GET', `/kubegate/v1/my/plans/${encodeURIComponent(id)}`);
    for (const s of p.steps)
      if (seen.get(s.index) !== s.status) {
        seen.set(s.index, s.status);
        if (s.status !== 'waiting')
          io.stdout.write(
            `  step ${s.index} ${s.status}: ${s.summary}${s.message && s.message !== 'done' ? ` — ${s.message}` : ''}\n`,
          );
      }
    if (FINAL.has(p.status)) {
      io.stdout.write(`${p.id} ${p.status}: ${p.message ?? ''}\n`);
      return p.status === 'succeeded' ? 0 : 1;
    }
    await sleep(1000);
  }
}

function requestLine(p: PendingRequest): string {
  const d = p.detail;
  const what = `${d.verb} ${d.resource}${d.subresource ? `/${d.subresource}` : ''} ${p.target}`;
  return `${p.id}  ${p.status.padEnd(9)} ${p.risk.padEnd(8)} ${what}${p.message ? `  — ${p.message}` : ''}`;
}

export async function runPlanCommand(argv: string[], io: Out, requestsOnly = false): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: common, allowPositionals: true });
  const [sub, id] = requestsOnly ? ['requests', undefined] : positionals;
  if (values.help || sub === undefined || sub === 'help') {
    io.stdout.write(PLAN_USAGE);
    return sub === undefined && !values.help ? 2 : 0;
  }
  if (sub === 'example') {
    io.stdout.write(EXAMPLE_PLAN);
    return 0;
  }
  const client = RequesterClient.fromKubeconfig(values.kubeconfig, values.context);
  const json = values.output === 'json';
  const show = (p: Shown) => {
    io.stdout.write(json ? `${JSON.stringify(p, null, 2)}\n` : renderPlan(p));
    return 0;
  };
  const needId = () => {
    if (!id) throw new Error(`kubegate plan ${sub} needs a plan id (kubegate plan status lists yours)`);
    return encodeURIComponent(id);
  };
  switch (sub) {
    case 'submit': {
      const body = values.file
        ? { manifests: readFileSync(values.file, 'utf8'), title: values.title ?? `apply ${values.file}` }
        : { plan: parsePlan(readFileSync(positionals[1] ?? '/dev/stdin', 'utf8')) };
      return show(await client.ok<Shown>('POST', '/kubegate/v1/my/plans', body));
    }
    case 'status': {
      if (id) return show(await client.ok<Shown>('GET', `/kubegate/v1/my/plans/${needId()}`));
      const { items } = await client.ok<{ items: Shown[] }>('GET', '/kubegate/v1/my/plans');
      if (json) io.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else
        for (const p of items)
          io.stdout.write(`${p.id}  ${p.status.padEnd(10)} ${p.risk.padEnd(8)} ${p.title}\n`);
      return 0;
    }
    case 'run': {
      const p = await client.ok<Shown>('POST', `/kubegate/v1/my/plans/${needId()}/run`);
      io.stdout.write(`${p.id} running (${p.steps.length} steps)\n`);
      return values.detach ? 0 : follow(client, p.id, io);
    }
    case 'stop':
      return show(await client.ok<Shown>('POST', `/kubegate/v1/my/plans/${needId()}/stop`));
    case 'requests': {
      const { items } = await client.ok<{ items: PendingRequest[] }>('GET', '/kubegate/v1/my/requests');
      io.stdout.write(
        json ? `${JSON.stringify(items, null, 2)}\n` : items.map((p) => `${requestLine(p)}\n`).join(''),
      );
      return 0;
    }
    default:
      io.stderr.write(`kubegate plan: unknown subcommand "${sub}"\n\n${PLAN_USAGE}`);
      return 2;
  }
}

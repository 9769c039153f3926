#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { serve } from '../serve.js';
import { asksForHelp, parseArgsMessage } from '../wire/parse-args-message.js';

const USAGE = `kubegate — a safety gate in front of the Kubernetes API server

Usage:
  kubegate serve --config FILE           run the proxy from kubegate.yaml
  kubegate dev [--dir DIR] [--port N] [--clusters a,b] [--set key.path=VALUE]...
                                         local control plane + kubegate in front of it (demo, tests)
  kubegate audit verify FILE... [--key PUB]
  kubegate audit export FILE --since TIME [--until TIME] [-o json|table]
  kubegate audit tail FILE [-f] [-n N] [-o json|table]
  kubegate policy eval --input FILE [--policy DIR]
  kubegate policy replay --audit FILE [--policy DIR]   (DIR: a bundle or a folder of Rego files)
  kubegate plan submit|status|run|stop|example ...   plans: see \`kubegate plan --help\`
  kubegate requests [-o json]            your own requests and what became of them
  kubegate kubeconfig --cluster NAME --user USER ...   a kubeconfig context for one cluster behind kubegate
  kubegate mcp [--kubeconfig FILE]       an MCP server (stdio) for AI agents, speaking through kubegate
Every command and subcommand takes --help.
`;

/** `--set a.b=VALUE` (VALUE as JSON, else a string) into a nested override object. */
function parseSets(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq < 1) throw new ConfigError(`--set needs key=value, got ${JSON.stringify(s)}`);
    const keys = s.slice(0, eq).split('.');
    let value: unknown = s.slice(eq + 1);
    try {
      value = JSON.parse(value as string);
    } catch {
      // a bare string
    }
    let node = out;
    for (const k of keys.slice(0, -1)) {
      node[k] = typeof node[k] === 'object' && node[k] !== null ? node[k] : {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return out;
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

function printUsage(): number {
  process.stdout.write(USAGE);
  return 0;
}

/** `kubegate dev`: local control planes with kubegate in front; runs until a signal. */
async function runDev(rest: string[], logger: pino.Logger): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      dir: { type: 'string', default: '.work/dev' },
      port: { type: 'string', default: '8443' },
      set: { type: 'string', multiple: true, default: [] },
      clusters: { type: 'string' },
    },
  });
  const clusters = values.clusters?.split(',').map((c) => c.trim());
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`--port: not a port: ${values.port}`);
  // loaded only here: dev writes kubeconfigs with the full client library, which serve does not load
  const { startDev } = await import('../dev/dev.js');
  const dev = await startDev(
    { dir: values.dir, port, overrides: parseSets(values.set), ...(clusters ? { clusters } : {}) },
    logger,
  );
  onSignals(() => dev.stop());
  const dir = values.dir;
  const admins = dev.clusters.map((c) => path.relative(process.cwd(), c.adminKubeconfig)).join(', ');
  process.stdout.write(
    `kubegate dev ready at https://127.0.0.1:${dev.kubegate.port} (${dev.clusters.map((c) => `${c.name}: ${c.controlPlane.url}`).join(', ')})\n` +
      `  source ${dir}/env   # KUBECONFIG (agent via kubegate), KUBEGATE_URL, KUBEGATE_CA, KUBEGATE_AUDIT\n` +
      `  kubectl --kubeconfig ${admins} ...   # admin, straight to the apiserver\n` +
      (dev.notifySecretFile
        ? `  notify webhook secret (verify Kubegate-Signature with it): ${dev.notifySecretFile}\n`
        : ''),
  );
  return -1; // keep running
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const logger = pino({ name: 'kubegate', level: process.env.KUBEGATE_LOG_LEVEL ?? 'info' });
  if ((cmd === 'serve' || cmd === 'dev') && asksForHelp(rest)) return printUsage();
  switch (cmd) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
      if (!values.config) throw new ConfigError('kubegate serve needs --config FILE');
      const running = await serve(loadConfig(values.config), logger);
      onSignals(() => running.close());
      return -1; // keep running
    }
    case 'dev':
      return runDev(rest, logger);
    case 'audit': {
      const { runAuditCommand } = await import('../audit/cli.js');
      return runAuditCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case 'policy': {
      const { runPolicyCommand } = await import('../policy/cli.js');
      return runPolicyCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case 'plan':
    case 'requests': {
      const { runPlanCommand } = await import('../plan/cli.js');
      return runPlanCommand(rest, { stdout: process.stdout, stderr: process.stderr }, cmd === 'requests');
    }
    case 'kubeconfig': {
      const { runKubeconfigCommand } = await import('../kubeconfig.js');
      return runKubeconfigCommand(rest, process.stdout);
    }
    case 'mcp': {
      const { runMcpServer } = await import('../mcp/server.js');
      return runMcpServer(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`kubegate: unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

// `kubegate audit export | head`: a reader that stops early is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const message = parseArgsMessage(err);
    // a fatal start is a fatal exit: whatever it opened (watchers, timers, the audit log) must not keep it alive
    process.stderr.write(`kubegate: ${message}\n`, () => process.exit(1));
  },
);

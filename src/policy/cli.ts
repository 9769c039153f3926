import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseArgsMessage } from '../wire/parse-args-message.js';
import { PolicyEngine } from './engine.js';
import { checkInput, completeInput, InputError } from './eval-input.js';
import { replay, replaySummary } from './replay.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const defaultBundle = path.join(root, 'dist', 'policy');
const quiet = pino({ level: 'silent' });

const EVAL_USAGE = `usage: kubegate policy eval --input FILE [--policy DIR]
  Decides one request. FILE is JSON: {"request": {...}, "user": {...}, "object": ..., "oldObject": ..., "config": {...}}
  (the input format: README "Policies"); unknown keys are refused. DIR: a bundle (policy.wasm + data.json)
  or a folder of Rego files (built first); default: the built bundle.
`;
const REPLAY_USAGE = `usage: kubegate policy replay --audit FILE [--policy DIR]
  Re-decides every past request in an audit log under a policy (a bundle or a folder of Rego files) and
  counts how many would be held, released or denied, and how many rules in audit mode would hold.
`;
const USAGE = `usage: kubegate policy eval|replay ... (--help on each)\n\n${EVAL_USAGE}\n${REPLAY_USAGE}`;

/** Usage on stdout (asked for: exit 0) or stderr (a wrong call: exit 2). */
function usage(io: Io, text: string, asked: boolean): number {
  (asked ? io.stdout : io.stderr).write(text);
  return asked ? 0 : 2;
}

/** A bundle dir as is; a folder of Rego files built into a temporary bundle first (with the real OPA CLI). */
async function loadPolicy(dir: string | undefined): Promise<{ engine: PolicyEngine; done: () => void }> {
  const given = dir ?? defaultBundle;
  if (existsSync(path.join(given, 'policy.wasm')))
    return { engine: await PolicyEngine.load(given, quiet), done: () => {} };
  if (!existsSync(given) || !readdirSync(given).some((f) => f.endsWith('.rego')))
    throw new InputError(`--policy: ${given} is neither a bundle (policy.wasm) nor a folder of .rego files`);
  const out = mkdtempSync(path.join(os.tmpdir(), 'kubegate-policy-'));
  execFileSync('bash', [path.join(root, 'scripts', 'policy-build.sh'), given, '--out', out], {
    stdio: 'ignore',
  });
  return {
    engine: await PolicyEngine.load(out, quiet),
    done: () => rmSync(out, { recursive: true, force: true }),
  };
}

async function evalCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string', short: 'i' },
      policy: { type: 'string' },
      bundle: { type: 'string', short: 'b' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.input) return usage(io, EVAL_USAGE, !!values.help);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(values.input, 'utf8'));
  } catch (err) {
    throw new InputError(`--input ${values.input}: ${(err as Error).message}`);
  }
  const input = completeInput(checkInput(raw));
  const { engine, done } = await loadPolicy(values.policy ?? values.bundle);
  io.stdout.write(`${JSON.stringify(engine.decide(input), null, 2)}\n`);
  done();
  return 0;
}

async function replayCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      audit: { type: 'string' },
      policy: { type: 'string' },
      bundle: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.audit) return usage(io, REPLAY_USAGE, !!values.help);
  const { engine, done } = await loadPolicy(values.policy ?? values.bundle);
  const counts = replay(engine, values.audit);
  for (const l of counts.lines) io.stdout.write(`${l}\n`);
  io.stdout.write(`${replaySummary(counts, engine.version)}\n`);
  done();
  return 0;
}

/** `kubegate policy eval` and `kubegate policy replay` — tools for policy authors. */
export async function runPolicyCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'eval') return await evalCommand(rest, io);
    if (sub === 'replay') return await replayCommand(rest, io);
  } catch (err) {
    io.stderr.write(`kubegate policy ${sub}: ${parseArgsMessage(err)}\n`);
    return err instanceof InputError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
  return usage(io, USAGE, sub === '--help' || sub === '-h' || sub === 'help');
}

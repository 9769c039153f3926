import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Decision } from './decision.js';
import { PolicyEngine } from './engine.js';
import type { PolicyInput } from './input.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const defaultBundle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'policy');
const quiet = pino({ level: 'silent' });

/** Fills what a hand-written input may leave out, so authors can write only what matters. */
function completeInput(raw: Partial<PolicyInput>): PolicyInput {
  const r = (raw.request ?? {}) as Partial<PolicyInput['request']>;
  return {
    request: {
      verb: r.verb ?? 'get',
      group: r.group ?? '',
      version: r.version ?? 'v1',
      resource: r.resource ?? '',
      subresource: r.subresource ?? '',
      namespace: r.namespace ?? '',
      name: r.name ?? '',
      dryRun: r.dryRun ?? false,
      path: r.path ?? '',
      query: r.query ?? {},
      contentType: r.contentType ?? '',
      resourceRequest: r.resourceRequest ?? (r.resource ?? '') !== '',
      impersonate: r.impersonate ?? { user: null, uid: null, groups: [], extra: {} },
    },
    user: { username: '', uid: '', groups: [], extra: {}, ...raw.user },
    object: raw.object ?? null,
    oldObject: raw.oldObject ?? null,
    config: raw.config ?? {},
  };
}

/** `kubegate policy eval` and `kubegate policy replay` — tools for policy authors. */
export async function runPolicyCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'eval') {
    const { values } = parseArgs({
      args: rest,
      options: { input: { type: 'string', short: 'i' }, bundle: { type: 'string', short: 'b' } },
    });
    if (!values.input) {
      io.stderr.write('usage: kubegate policy eval --input FILE [--bundle DIR]\n');
      return 2;
    }
    const engine = await PolicyEngine.load(values.bundle ?? defaultBundle, quiet);
    const input = completeInput(JSON.parse(readFileSync(values.input, 'utf8')) as Partial<PolicyInput>);
    io.stdout.write(`${JSON.stringify(engine.decide(input), null, 2)}\n`);
    return 0;
  }
  if (sub === 'replay') {
    const { values } = parseArgs({
      args: rest,
      options: { audit: { type: 'string' }, bundle: { type: 'string' } },
    });
    if (!values.audit || !values.bundle) {
      io.stderr.write('usage: kubegate policy replay --audit FILE --bundle DIR\n');
      return 2;
    }
    const engine = await PolicyEngine.load(values.bundle, quiet);
    let seen = 0;
    let changed = 0;
    for (const line of readFileSync(values.audit, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as Record<string, unknown>;
      const pi = rec.policy_input as Partial<PolicyInput> | undefined;
      if (!pi || !['held', 'forwarded', 'blocked'].includes(String(rec.event))) continue;
      seen++;
      let next: Decision | { error: string };
      try {
        next = engine.decide(completeInput({ ...pi, object: rec.body ?? null }));
      } catch (err) {
        next = { error: (err as Error).message };
      }
      const nextRisk =
        'error' in next ? `ERROR (${next.error})` : next.deny.length ? `${next.risk}+deny` : next.risk;
      if (nextRisk !== rec.risk) {
        changed++;
        io.stdout.write(
          `seq ${rec.seq} ${rec.request_id} ${rec.action}: ${rec.risk} -> ${nextRisk}${'error' in next ? '' : ` (${next.reasons.join('; ')})`}\n`,
        );
      }
    }
    io.stdout.write(
      `${changed} of ${seen} recorded decisions would change under ${engine.version.slice(0, 12)} (live objects are not in the log: rules that read oldObject are replayed without it)\n`,
    );
    return 0;
  }
  io.stderr.write(
    'usage: kubegate policy eval --input FILE [--bundle DIR] | kubegate policy replay --audit FILE --bundle DIR\n',
  );
  return 2;
}

import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { parseTtl } from './ttl.js';

/** Options every command that talks to kubegate accepts. */
export interface RemoteOptions {
  /** --key FILE (else APPROVE_KEY). */
  key?: string;
  /** --gate NAME (else KUBEGATE_GATE or KUBEGATE_CLUSTER, else kubegate): kubegate's cluster_name, the tokens' audience. */
  gate?: string;
}

export type Output = 'text' | 'json';

export type Command =
  | { cmd: 'help' }
  | { cmd: 'keygen'; name: string; out: string }
  | { cmd: 'list'; remote: RemoteOptions; output: Output; cluster?: string }
  | { cmd: 'watch'; remote: RemoteOptions }
  | { cmd: 'show'; remote: RemoteOptions; id: string; output: Output }
  | {
      cmd: 'approve';
      remote: RemoteOptions;
      ids: string[];
      override: boolean;
      reason?: string;
      ttlSeconds: number;
      plan: boolean;
      print: boolean;
      /** --blind: approve even what cannot be shown (the token says so). */
      blind?: true;
    }
  | { cmd: 'reject'; remote: RemoteOptions; id: string; reason: string }
  | { cmd: 'revoke'; remote: RemoteOptions; id: string }
  | { cmd: 'freeze'; remote: RemoteOptions; mode: 'on' | 'off' | 'status'; reason?: string }
  | { cmd: 'rollback'; remote: RemoteOptions; id: string }
  | { cmd: 'passkey-enroll'; remote: RemoteOptions; ttlSeconds: number };

export const DEFAULT_TTL = '10m';

const REMOTE = {
  key: { type: 'string' },
  gate: { type: 'string' },
} as const;
const OUTPUT = { output: { type: 'string', short: 'o' } } as const;

/** Request ids go into URL paths: letters, digits, dot, dash and underscore only. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function requestId(cmd: string, id: string | undefined): string {
  if (!id) throw new UsageError(`${cmd} needs a request id (see \`approve-cli list\`)`);
  if (!ID.test(id)) throw new UsageError(`${cmd}: ${JSON.stringify(id)} is not a request id`);
  return id;
}

function output(v: string | undefined): Output {
  if (v === undefined) return 'text';
  if (v === 'json') return 'json';
  throw new UsageError(`-o: only "json" is supported, not ${JSON.stringify(v)}`);
}

function remote(values: { key?: string | undefined; gate?: string | undefined }): RemoteOptions {
  return {
    ...(values.key !== undefined ? { key: values.key } : {}),
    ...(values.gate !== undefined ? { gate: values.gate } : {}),
  };
}

function noExtra(cmd: string, extra: string[]): void {
  if (extra.length) throw new UsageError(`${cmd}: unexpected argument ${JSON.stringify(extra[0])}`);
}

function nonEmpty(flag: string, v: string | undefined): string | undefined {
  if (v !== undefined && !v.trim()) throw new UsageError(`${flag} must not be empty`);
  return v;
}

/** The one request id a command takes, and nothing after it. */
function soleId(cmd: string, positionals: string[]): string {
  const [id, ...extra] = positionals;
  noExtra(cmd, extra);
  return requestId(cmd, id);
}

function parseKeygen(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { name: { type: 'string' }, out: { type: 'string' } },
    allowPositionals: true,
  });
  noExtra('keygen', positionals);
  if (!values.name) throw new UsageError('keygen needs --name NAME (the approver, e.g. alice)');
  if (!values.out) throw new UsageError('keygen needs --out FILE (where to write the private key)');
  return { cmd: 'keygen', name: values.name, out: values.out };
}

function parseList(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { ...REMOTE, ...OUTPUT, cluster: { type: 'string' } },
    allowPositionals: true,
  });
  noExtra('list', positionals);
  const cluster = nonEmpty('--cluster', values.cluster);
  return {
    cmd: 'list',
    remote: remote(values),
    output: output(values.output),
    ...(cluster ? { cluster } : {}),
  };
}

function parseWatch(args: string[]): Command {
  const { values, positionals } = parseArgs({ args, options: REMOTE, allowPositionals: true });
  noExtra('watch', positionals);
  return { cmd: 'watch', remote: remote(values) };
}

function parseShow(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { ...REMOTE, ...OUTPUT },
    allowPositionals: true,
  });
  const id = soleId('show', positionals);
  return { cmd: 'show', remote: remote(values), id, output: output(values.output) };
}

/** approve's ids: at least one, each a request id, none twice, and several only with --plan. */
function approveIds(positionals: string[], plan: boolean): string[] {
  if (!positionals.length) requestId('approve', undefined);
  const ids = positionals.map((id) => requestId('approve', id));
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new UsageError(`approve: ${dup} is named twice`);
  if (ids.length > 1 && !plan) {
    throw new UsageError(
      `approve: ${ids.length} requests need --plan (one token then approves them together, as batch-YYYYMMDD-XXXXXXXX)`,
    );
  }
  return ids;
}

const APPROVE_OPTIONS = {
  ...REMOTE,
  override: { type: 'boolean', default: false },
  reason: { type: 'string' },
  ttl: { type: 'string', default: DEFAULT_TTL },
  plan: { type: 'boolean', default: false },
  print: { type: 'boolean', default: false },
  blind: { type: 'boolean', default: false },
} as const;

function parseApprove(args: string[]): Command {
  const { values, positionals } = parseArgs({ args, options: APPROVE_OPTIONS, allowPositionals: true });
  const ids = approveIds(positionals, values.plan);
  const reason = nonEmpty('--reason', values.reason);
  if (values.override && !reason)
    throw new UsageError('approve --override needs --reason TEXT (it is audited)');
  return {
    cmd: 'approve',
    remote: remote(values),
    ids,
    override: values.override,
    ...(reason !== undefined ? { reason } : {}),
    ttlSeconds: parseTtl(values.ttl),
    plan: values.plan,
    print: values.print,
    ...(values.blind ? { blind: true as const } : {}),
  };
}

function parseReject(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { ...REMOTE, reason: { type: 'string' } },
    allowPositionals: true,
  });
  const [id, ...extra] = positionals;
  noExtra('reject', extra);
  const reason = nonEmpty('--reason', values.reason);
  if (!reason) throw new UsageError('reject needs --reason TEXT (the requester sees it)');
  return { cmd: 'reject', remote: remote(values), id: requestId('reject', id), reason };
}

/** revoke ID and rollback ID: a request id and the remote options, nothing else. */
function parseIdOnly(cmd: 'revoke' | 'rollback', args: string[]): Command {
  const { values, positionals } = parseArgs({ args, options: REMOTE, allowPositionals: true });
  const id = soleId(cmd, positionals);
  return { cmd, remote: remote(values), id };
}

function parseFreeze(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { ...REMOTE, reason: { type: 'string' } },
    allowPositionals: true,
  });
  const [mode, ...extra] = positionals;
  noExtra('freeze', extra);
  if (mode !== 'on' && mode !== 'off' && mode !== 'status')
    throw new UsageError('freeze needs on, off or status');
  const reason = nonEmpty('--reason', values.reason);
  if (mode === 'status' && reason !== undefined) throw new UsageError('freeze status takes no --reason');
  return { cmd: 'freeze', remote: remote(values), mode, ...(reason !== undefined ? { reason } : {}) };
}

/** `passkey enroll [--ttl 10m]`: a one-time link to enrol a passkey in the console. */
function parsePasskey(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    options: { ...REMOTE, ttl: { type: 'string', default: '10m' } },
    allowPositionals: true,
  });
  const [sub, ...extra] = positionals;
  if (sub !== 'enroll') throw new UsageError('passkey needs enroll');
  noExtra('passkey enroll', extra);
  const ttlSeconds = parseTtl(values.ttl);
  if (ttlSeconds > 600) throw new UsageError('passkey enroll: --ttl is at most 10m');
  return { cmd: 'passkey-enroll', remote: remote(values), ttlSeconds };
}

const HELP = new Set<string | undefined>([undefined, 'help', '-h', '--help']);
/** `approve-cli approve --help` shows the usage too (parseArgs would call --help unknown). */
const asksForHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

/** Each command's parser, by its name (a Map: no inherited keys such as `constructor`). */
const PARSERS = new Map<string, (args: string[]) => Command>([
  ['keygen', parseKeygen],
  ['list', parseList],
  ['watch', parseWatch],
  ['show', parseShow],
  ['approve', parseApprove],
  ['reject', parseReject],
  ['revoke', (args) => parseIdOnly('revoke', args)],
  ['freeze', parseFreeze],
  ['rollback', (args) => parseIdOnly('rollback', args)],
  ['passkey', parsePasskey],
]);

/** Turns argv (without node and the script) into one validated command; refuses bad combinations. */
export function parseCommand(argv: string[]): Command {
  const [cmd, ...args] = argv;
  if (HELP.has(cmd) || asksForHelp(args)) return { cmd: 'help' };
  const parse = cmd === undefined ? undefined : PARSERS.get(cmd);
  if (!parse) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  return parse(args);
}

import { parseArgsMessage } from '../wire/parse-args-message.js';
import { type Command, DEFAULT_TTL, parseCommand } from './args.js';
import { KubegateClient, keySigner } from './client.js';
import type { CommandContext, Output } from './commands.js';
import * as commands from './commands.js';
import { DEFAULT_CLUSTER, type Endpoint, type Env, loadApproverKey, resolveRemote } from './env.js';
import { ApiStatusError, CliError, FingerprintMismatchError, UsageError } from './errors.js';
import { passkeyEnroll } from './passkey.js';
import { nodeTransport, type Transport } from './transport.js';
import { watch } from './watch.js';

export const USAGE = `approve-cli — inspect, approve and reject changes held by kubegate

Usage:
  approve-cli keygen --name NAME --out FILE      make an approver key (prints the public JWK)
  approve-cli list [-o json]                     held requests (and the freeze switch)
  approve-cli watch                              the list, printed again on every change (Ctrl-C stops)
  approve-cli show ID [-o json]                  who, what, why, the diff, the rollback plan
  approve-cli approve ID [--override --reason TEXT] [--ttl 10m] [--print] [--blind]
  approve-cli approve ID ID... --plan [...]      approve several requests with one token (batch-…)
  approve-cli reject ID --reason TEXT
  approve-cli revoke ID                          withdraw unused approvals of a request
  approve-cli freeze on|off [--reason TEXT]      emergency stop for every change
  approve-cli freeze status
  approve-cli rollback ID                        undo an executed change: a new request, held for approval
  approve-cli passkey enroll [--ttl 10m]         a one-time link to enrol a passkey in the browser console

Plans (plan-YYYYMMDD-NNN, proposed with \`kubegate plan submit\`): \`list\` shows them beside the
requests; \`show\`, \`approve\` (one signature over every step), \`reject\` (a running plan stops after
its current step) and \`rollback\` (the undo of what ran, as a new plan for another approver) take a plan id.

Options for commands that talk to kubegate:
  --key FILE       your private approver key (default: $APPROVE_KEY)
  --gate NAME      kubegate's cluster_name, the tokens' audience; an approval also names
                   its request's cluster (default: $KUBEGATE_GATE, else ${DEFAULT_CLUSTER})
  list --cluster NAME   only the requests and plans of that cluster
  approve --ttl    how long the approval stays valid: 30s, 10m, 1h (default ${DEFAULT_TTL})
  approve --print  print the token instead of sending it (the requester passes it
                   in a Kubegate-Approval header)
  approve --blind  approve although part of the change cannot be shown (no server-side
                   dry run, a refused one, a body without its decoded form: \`show\` says
                   what and why); without it such a request is refused. The token says
                   blind: true, and kubegate records it

Environment:
  KUBEGATE_URL      https://HOST:PORT of kubegate (http:// only for a loopback test server)
  KUBEGATE_CA       PEM file of the CA that signed kubegate's certificate
  APPROVE_KEY       private approver key file (JWK), as --key
  KUBEGATE_GATE     as --gate (KUBEGATE_CLUSTER is read when it is unset)
  KUBEGATE_CONSOLE_URL  the console's https://HOST:PORT for passkey links (default: KUBEGATE_URL)

Every call is signed with your key: kubegate must list its public half in its approvers JWKS.
`;

export interface CliDeps {
  stdout: Output;
  stderr: Output;
  env: Env;
  now?: () => number;
  random?: () => number;
  /** Test seam: how to reach kubegate (default node:https with KUBEGATE_CA). */
  transport?: (endpoint: Endpoint) => Transport;
  /** Test seam: stops `watch` as Ctrl-C does. */
  signal?: AbortSignal;
}

async function remoteContext(
  cmd: Extract<Command, { remote: unknown }>,
  deps: CliDeps,
): Promise<CommandContext> {
  const remote = resolveRemote(deps.env, cmd.remote);
  const key = loadApproverKey(remote.keyFile, (line) => deps.stderr.write(`${line}\n`));
  const signer = keySigner(key, remote.audience);
  const transport = (deps.transport ?? nodeTransport)(remote.endpoint);
  return {
    stdout: deps.stdout,
    stderr: deps.stderr,
    client: new KubegateClient(transport, signer),
    signer,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
}

async function dispatch(cmd: Command, deps: CliDeps): Promise<number> {
  switch (cmd.cmd) {
    case 'help':
      deps.stdout.write(USAGE);
      return 0;
    case 'keygen':
      return commands.keygen(cmd, deps);
    case 'rollback':
      return commands.rollback(cmd, await remoteContext(cmd, deps));
    case 'list':
      return commands.list(cmd, await remoteContext(cmd, deps));
    case 'watch':
      return watch(await remoteContext(cmd, deps));
    case 'show':
      return commands.show(cmd, await remoteContext(cmd, deps));
    case 'approve':
      return commands.approve(cmd, await remoteContext(cmd, deps));
    case 'reject':
      return commands.reject(cmd, await remoteContext(cmd, deps));
    case 'revoke':
      return commands.revoke(cmd, await remoteContext(cmd, deps));
    case 'freeze':
      return commands.freeze(cmd, await remoteContext(cmd, deps));
    case 'passkey-enroll':
      return passkeyEnroll(cmd, deps);
  }
}

/**
 * approve-cli: argv (without node and the script) in, exit code out. 0 done,
 * 1 refused or failed (one line on stderr), 2 usage error.
 */
export async function runApproveCli(argv: string[], deps: CliDeps): Promise<number> {
  try {
    const cmd = parseCommand(argv);
    if (cmd.cmd === 'help' && argv.length === 0) {
      deps.stdout.write(USAGE);
      return 2;
    }
    return await dispatch(cmd, deps);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    if (err instanceof UsageError || (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'))) {
      deps.stderr.write(`approve-cli: ${parseArgsMessage(e)}\nRun \`approve-cli help\` for usage.\n`);
      return 2;
    }
    if (err instanceof FingerprintMismatchError) {
      const bar = '!'.repeat(72);
      deps.stderr.write(
        `${bar}\napprove-cli: FINGERPRINT MISMATCH for ${err.requestId}: REFUSING\n` +
          `  kubegate reported: ${err.reported}\n  computed here:     ${err.computed}\n` +
          '  What kubegate would run is not what it showed you. Do NOT approve it;\n' +
          `  report this to kubegate's operators.\n${bar}\n`,
      );
      return 1;
    }
    if (err instanceof ApiStatusError) {
      // a Status (with a reason) is kubegate's refusal; anything else is already a full sentence
      const why = err.reason ? `kubegate refused (${err.code} ${err.reason}): ` : '';
      deps.stderr.write(`approve-cli: ${why}${err.message}\n`);
      return 1;
    }
    if (err instanceof CliError) {
      deps.stderr.write(`approve-cli: ${err.message}\n`);
      return 1;
    }
    deps.stderr.write(`approve-cli: unexpected error: ${e.message}\n`);
    return 1;
  }
}

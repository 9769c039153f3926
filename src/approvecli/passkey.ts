import { signEnrolment } from '../wire/enrol-link.js';
import type { Command } from './args.js';
import type { Output } from './commands.js';
import { type Env, loadApproverKey, resolveRemote } from './env.js';
import { CliError } from './errors.js';

/**
 * `approve-cli passkey enroll`: prints a one-time link to the console, signed with the approver's
 * key (short-lived, single use). The token is in the fragment, which browsers never send to a
 * server or put in a Referer: only the console page reads it.
 */
export async function passkeyEnroll(
  cmd: Extract<Command, { cmd: 'passkey-enroll' }>,
  deps: { stdout: Output; stderr: Output; env: Env },
): Promise<number> {
  const remote = resolveRemote(deps.env, cmd.remote);
  const key = loadApproverKey(remote.keyFile, (line) => deps.stderr.write(`${line}\n`));
  const base = deps.env.KUBEGATE_CONSOLE_URL?.trim() || remote.endpoint.url.origin;
  let origin: string;
  try {
    origin = new URL(base).origin;
  } catch {
    throw new CliError(`KUBEGATE_CONSOLE_URL is not a URL: ${JSON.stringify(base)}`);
  }
  const token = await signEnrolment(key, remote.audience, cmd.ttlSeconds);
  deps.stdout.write(`${origin}/kubegate/ui/enroll#${token}\n`);
  deps.stderr.write(
    `open this link in ${key.name}'s browser within ${cmd.ttlSeconds}s to enrol a passkey; it works once. Keep it private: whoever opens it first enrols their passkey as ${key.name}.\n`,
  );
  return 0;
}

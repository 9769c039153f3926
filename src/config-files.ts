import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError } from './config.js';

/** The files a config names, by config key: each must be there and readable before kubegate starts. */
function namedFiles(c: Config): [key: string, file: string | undefined, kind: 'file' | 'dir'][] {
  return [
    ['tls.cert', c.tls.cert, 'file'],
    ['tls.key', c.tls.key, 'file'],
    ['tls.client_ca', c.tls.client_ca, 'file'],
    ['policy.bundle', c.policy.bundle, 'dir'],
    ['policy.bundle', c.policy.bundle && path.join(c.policy.bundle, 'policy.wasm'), 'file'],
    ['approvers.jwks', c.approvers.jwks, 'file'],
    ['audit.key', c.audit.key, 'file'],
    ['upstream.kubeconfig', c.upstream.kubeconfig, 'file'],
    ['upstream.ca', c.upstream.ca, 'file'],
    ['upstream.token_file', c.upstream.token_file, 'file'],
    ['notify.webhook_secret_file', c.notify?.webhook_secret_file, 'file'],
    ...(c.clusters ?? []).flatMap((cl, i): [string, string | undefined, 'file'][] => [
      [`clusters.${i}.client_ca`, cl.client_ca, 'file'],
      [`clusters.${i}.upstream.kubeconfig`, cl.upstream.kubeconfig, 'file'],
      [`clusters.${i}.upstream.ca`, cl.upstream.ca, 'file'],
      [`clusters.${i}.upstream.token_file`, cl.upstream.token_file, 'file'],
    ]),
  ];
}

function problem(file: string, kind: 'file' | 'dir'): string | undefined {
  let isDir: boolean;
  try {
    isDir = statSync(file).isDirectory();
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `no such ${kind === 'dir' ? 'directory' : 'file'} ${file}`;
    if (code === 'EACCES') return `permission denied reading ${file}`;
    return `cannot read ${file}: ${(err as Error).message}`;
  }
  if (kind === 'file' && isDir) return `${file} is a directory, not a file`;
  if (kind === 'dir' && !isDir) return `${file} is not a directory`;
  return undefined;
}

/** Fails fast, naming the config key, when a file the config names is missing or unreadable. */
export function checkConfigFiles(c: Config): void {
  const msgs: string[] = [];
  for (const [key, file, kind] of namedFiles(c)) {
    if (!file || msgs.some((m) => m.startsWith(`${key}:`))) continue;
    const p = problem(file, kind);
    if (p) msgs.push(`${key}: ${p}`);
  }
  if (msgs.length) throw new ConfigError(`invalid kubegate config:\n  ${msgs.join('\n  ')}`);
}

/** A listen error as the config key it comes from (a port in use, an address not on this host). */
export function listenError(c: Config, err: NodeJS.ErrnoException): ConfigError {
  const where = `${c.listen.address}:${c.listen.port}`;
  if (err.code === 'EADDRINUSE') return new ConfigError(`listen.port: ${where} is already in use`);
  if (err.code === 'EADDRNOTAVAIL')
    return new ConfigError(`listen.address: ${where}: not an address of this host`);
  if (err.code === 'EACCES') return new ConfigError(`listen.port: ${where}: permission denied`);
  return new ConfigError(`listen: ${where}: ${err.message}`);
}

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

/** What kubegate needs from a kubeconfig context to reach its upstream. */
export interface KubeconfigTarget {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  /** The context user's own bearer token, if it has one (or a file holding it, re-read on use). */
  token?: string;
  tokenFile?: string;
}

interface Named<T> {
  name: string;
  value: T;
  /** the directory of the file it came from: relative paths in it are relative to that */
  dir: string;
}

interface Merged {
  currentContext?: string;
  clusters: Named<Record<string, unknown>>[];
  users: Named<Record<string, unknown>>[];
  contexts: Named<Record<string, unknown>>[];
}

/**
 * Reads the cluster and token of one context, as kubectl would choose it: the given file, else
 * each file in $KUBECONFIG (the first definition of a name wins), else ~/.kube/config. A small
 * reader of our own: the full client library costs ~80 MB of memory in every kubegate process.
 */
export function readKubeconfig(file?: string, context?: string): KubeconfigTarget {
  const files = file ? [file] : defaultFiles();
  const merged = mergeFiles(files);
  const name = context ?? merged.currentContext;
  if (!name) throw new Error(`kubeconfig (${files.join(', ')}) has no current-context: give a context`);
  const ctx = merged.contexts.find((c) => c.name === name);
  if (!ctx) throw new Error(`kubeconfig has no context "${name}"`);
  const cluster = merged.clusters.find((c) => c.name === ctx.value.cluster);
  if (!cluster || typeof cluster.value.server !== 'string')
    throw new Error(`kubeconfig has no cluster for context "${name}"`);
  const user = merged.users.find((u) => u.name === ctx.value.user);
  return { server: cluster.value.server, ...caOf(cluster), ...tokenOf(user) };
}

function defaultFiles(): string[] {
  const env = process.env.KUBECONFIG;
  if (env) return env.split(path.delimiter).filter(Boolean);
  return [path.join(os.homedir(), '.kube', 'config')];
}

function mergeFiles(files: string[]): Merged {
  const merged: Merged = { clusters: [], users: [], contexts: [] };
  for (const f of files) {
    let doc: Record<string, unknown>;
    try {
      doc = (YAML.parse(readFileSync(f, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      // $KUBECONFIG may list files that do not exist (kubectl skips them); a given file must exist
      if (files.length > 1 && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`kubeconfig ${f}: ${(err as Error).message}`);
    }
    const dir = path.dirname(path.resolve(f));
    if (!merged.currentContext && typeof doc['current-context'] === 'string' && doc['current-context'])
      merged.currentContext = doc['current-context'];
    add(merged.clusters, doc.clusters, 'cluster', dir);
    add(merged.users, doc.users, 'user', dir);
    add(merged.contexts, doc.contexts, 'context', dir);
  }
  return merged;
}

function add(into: Named<Record<string, unknown>>[], list: unknown, key: string, dir: string): void {
  if (!Array.isArray(list)) return;
  for (const item of list as Record<string, unknown>[]) {
    const name = item?.name;
    const value = item?.[key];
    if (typeof name !== 'string' || !value || typeof value !== 'object') continue;
    if (!into.some((n) => n.name === name)) into.push({ name, value: value as Record<string, unknown>, dir });
  }
}

function caOf(cluster: Named<Record<string, unknown>>): { ca?: Buffer; insecure: boolean } {
  const v = cluster.value;
  const insecure = v['insecure-skip-tls-verify'] === true;
  const data = v['certificate-authority-data'];
  if (typeof data === 'string' && data) return { ca: Buffer.from(data, 'base64'), insecure };
  const file = v['certificate-authority'];
  if (typeof file === 'string' && file)
    return { ca: readFileSync(path.resolve(cluster.dir, file)), insecure };
  return { insecure };
}

function tokenOf(user: Named<Record<string, unknown>> | undefined): { token?: string; tokenFile?: string } {
  const v = user?.value;
  if (typeof v?.token === 'string' && v.token) return { token: v.token };
  if (typeof v?.tokenFile === 'string' && v.tokenFile)
    return { tokenFile: path.resolve(user!.dir, v.tokenFile) };
  return {};
}

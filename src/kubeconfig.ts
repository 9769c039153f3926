import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { CLUSTER_PREFIX } from './clusters.js';
import { ConfigError } from './config.js';

/** A user's way in to one cluster behind kubegate. */
export interface ContextSpec {
  /** The cluster's name in kubegate's config (its path prefix /clusters/NAME). */
  cluster: string;
  /** kubegate's URL (https://HOST:PORT) and the CA that signed its serving certificate. */
  server: string;
  caFile: string;
  user: string;
  credential: { token: string } | { certFile: string; keyFile: string };
  /** Write the server without the prefix (kubegate fronting one cluster). */
  unprefixed?: boolean;
}

/** Adds (or replaces) the cluster, user and context `USER@CLUSTER`; the first one added becomes current. */
export function addContext(kc: KubeConfig, s: ContextSpec): string {
  const server = s.unprefixed ? s.server : `${s.server.replace(/\/+$/, '')}${CLUSTER_PREFIX}${s.cluster}`;
  const clusterName = `kubegate-${s.cluster}`;
  const userName = `${s.user}@${s.cluster}`;
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const user =
    'token' in s.credential
      ? { name: userName, token: s.credential.token }
      : { name: userName, certData: b64(s.credential.certFile), keyData: b64(s.credential.keyFile) };
  const keep = <T extends { name: string }>(list: T[], name: string) => list.filter((x) => x.name !== name);
  const cluster = { name: clusterName, server, caData: b64(s.caFile), skipTLSVerify: false };
  const context = { name: userName, cluster: clusterName, user: userName, namespace: 'default' };
  kc.loadFromOptions({
    clusters: [...keep(kc.clusters, clusterName), cluster],
    users: [...keep(kc.users, userName), user],
    contexts: [...keep(kc.contexts, userName), context],
    currentContext: kc.currentContext || userName,
  });
  return userName;
}

/** Writes a kubeconfig file readable by its owner only. */
export function writeKubeconfigFile(file: string, kc: KubeConfig): void {
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
}

const USAGE = `usage: kubegate kubeconfig --cluster NAME --user USER
         (--token TOKEN | --token-file FILE | --client-certificate FILE --client-key FILE)
         [--server https://HOST:PORT] [--ca FILE] [--out FILE]
Writes a kubeconfig context USER@NAME that reaches cluster NAME through kubegate
(server https://HOST:PORT/clusters/NAME). --out adds it to that file (created if missing);
without --out the kubeconfig is printed. --server and --ca default to $KUBEGATE_URL and $KUBEGATE_CA.
`;

function credentialOf(v: {
  token?: string | undefined;
  'token-file'?: string | undefined;
  'client-certificate'?: string | undefined;
  'client-key'?: string | undefined;
}): ContextSpec['credential'] {
  if (v.token) return { token: v.token };
  if (v['token-file']) return { token: readFileSync(v['token-file'], 'utf8').trim() };
  if (v['client-certificate'] && v['client-key'])
    return { certFile: v['client-certificate'], keyFile: v['client-key'] };
  throw new ConfigError('give --token, --token-file, or --client-certificate with --client-key');
}

/** `kubegate kubeconfig`: one user's context for one cluster behind kubegate. */
export function runKubeconfigCommand(args: string[], out: { write(s: string): unknown }): number {
  const opt = { type: 'string' } as const;
  const { values } = parseArgs({
    args,
    options: {
      cluster: opt,
      user: opt,
      token: opt,
      'token-file': opt,
      'client-certificate': opt,
      'client-key': opt,
      server: opt,
      ca: opt,
      out: opt,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const server = values.server ?? process.env.KUBEGATE_URL;
  const ca = values.ca ?? process.env.KUBEGATE_CA;
  if (!values.cluster || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.cluster))
    throw new ConfigError(`--cluster NAME is needed (a cluster name of kubegate's config)\n${USAGE}`);
  if (!values.user) throw new ConfigError(`--user USER is needed\n${USAGE}`);
  if (!server?.startsWith('https://'))
    throw new ConfigError('--server https://HOST:PORT (or KUBEGATE_URL) is needed');
  if (!ca) throw new ConfigError("--ca FILE (or KUBEGATE_CA) is needed: the CA of kubegate's certificate");
  const kc = new KubeConfig();
  if (values.out && existsSync(values.out)) kc.loadFromFile(values.out);
  const spec = {
    cluster: values.cluster,
    server,
    caFile: ca,
    user: values.user,
    credential: credentialOf(values),
  };
  const name = addContext(kc, spec);
  if (values.out) {
    writeKubeconfigFile(values.out, kc);
    out.write(`context ${name} written to ${values.out}\n`);
  } else out.write(kc.exportConfig());
  return 0;
}

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: dist/dev/ → ../.. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where test/cluster/build.sh puts etcd, kube-apiserver, kube-controller-manager, kubectl and opa. */
export function binDir(): string {
  const cache = process.env.KUBEGATE_CACHE ?? path.join(os.homedir(), '.cache', 'kubegate');
  return process.env.KUBEGATE_BIN ?? path.join(cache, 'bin');
}

/** Where test/cluster/build-tools.sh puts kwok, helm and the informer test client. */
export function toolsDir(): string {
  const cache = process.env.KUBEGATE_CACHE ?? path.join(os.homedir(), '.cache', 'kubegate');
  return process.env.KUBEGATE_TOOLS ?? path.join(cache, 'tools');
}

/** A tool built beside the control plane (simulated nodes, real clients). */
export function tool(name: 'kwok' | 'helm' | 'informer'): string {
  const p = path.join(toolsDir(), name);
  if (!existsSync(p)) {
    throw new Error(
      `${p} is missing: run \`bash test/cluster/build-tools.sh\` (npm start and npm test do it)`,
    );
  }
  return p;
}

export function binary(
  name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kubectl' | 'opa',
): string {
  const p = path.join(binDir(), name);
  if (!existsSync(p)) {
    throw new Error(
      `${p} is missing: run \`bash test/cluster/build.sh\` (npm start and npm test do it for you)`,
    );
  }
  return p;
}

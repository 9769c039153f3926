import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import path from 'node:path';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import type { Logger } from 'pino';
import { type Decision, PolicyError, validateDecision } from './decision.js';
import type { PolicyInput } from './input.js';
import { type Evaluator, makeEvaluator } from './wasm-eval.js';

const ENTRYPOINT = 'kubegate/decision';

interface Loaded {
  policy: LoadedPolicy;
  evaluate: Evaluator;
  version: string;
}

/** A probe every new bundle must answer correctly before it replaces the one in force. */
const PROBE: PolicyInput = {
  request: {
    verb: 'delete',
    group: '',
    version: 'v1',
    resource: 'namespaces',
    subresource: '',
    namespace: '',
    name: 'probe',
    dryRun: false,
    path: '/api/v1/namespaces/probe',
    query: {},
    contentType: '',
    resourceRequest: true,
    impersonate: { user: null, uid: null, groups: [], extra: {} },
  },
  user: { username: 'probe', uid: '', groups: [], extra: {} },
  cluster: { name: 'probe', labels: {} },
  object: null,
  oldObject: null,
  config: {},
};

async function loadBundle(dir: string): Promise<Loaded> {
  const wasm = readFileSync(path.join(dir, 'policy.wasm'));
  const dataBytes = readFileSync(path.join(dir, 'data.json'));
  let data: object;
  try {
    data = JSON.parse(dataBytes.toString('utf8')) as object;
  } catch (err) {
    throw new PolicyError(`data.json is not valid JSON: ${(err as Error).message}`);
  }
  // The version covers the data too: a changed default (say, production namespaces) is a new policy.
  const version = createHash('sha256').update(wasm).update(dataBytes).digest('hex');
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(wasm);
  } catch (err) {
    throw new PolicyError(`policy.wasm does not load: ${String(err)}`);
  }
  if (!(ENTRYPOINT in (policy.entrypoints as Record<string, number>))) {
    throw new PolicyError(`bundle has no ${ENTRYPOINT} entrypoint`);
  }
  policy.setData(data);
  const loaded = { policy, evaluate: makeEvaluator(policy, ENTRYPOINT), version };
  evaluate(loaded, PROBE); // throws if the bundle cannot decide
  return loaded;
}

function evaluate(loaded: Loaded, input: PolicyInput | null, text?: string): Decision {
  let rs: unknown;
  try {
    rs = loaded.evaluate(input, text);
  } catch (err) {
    throw new PolicyError(`policy evaluation failed: ${String(err)}`);
  }
  const first = Array.isArray(rs) ? (rs[0] as { result?: unknown } | undefined) : undefined;
  return validateDecision(first?.result, loaded.version);
}

/**
 * The compiled Rego policy, evaluated in-process. A changed bundle is swapped in
 * only after it loads and answers a probe; a broken one is refused and the old
 * one stays in force (one reference assignment: requests never see half a swap).
 */
export class PolicyEngine {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private current: Loaded,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async load(dir: string, logger: Logger): Promise<PolicyEngine> {
    const engine = new PolicyEngine(await loadBundle(dir), dir, logger);
    logger.info({ policy: engine.version, bundle: dir }, 'policy loaded');
    return engine;
  }

  get version(): string {
    return this.current.version;
  }

  decide(input: PolicyInput): Decision {
    return evaluate(this.current, input);
  }

  /**
   * decide() on an input already serialised (`JSON.stringify(input)`), for callers that needed the
   * text anyway: opa-wasm then reads these bytes instead of serialising the input a second time.
   */
  decideJson(inputJson: string): Decision {
    return evaluate(this.current, null, inputJson);
  }

  /** Tries the bundle on disk now; resolves to true if a new version is in force. */
  async reload(): Promise<boolean> {
    try {
      const next = await loadBundle(this.dir);
      if (next.version === this.current.version) return false;
      const previous = this.current.version;
      this.current = next;
      this.logger.info({ policy: next.version, previous }, 'policy reloaded');
      return true;
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message, policy: this.current.version },
        'new policy bundle refused; previous stays in force',
      );
      return false;
    }
  }

  /** Reloads when the bundle directory changes (debounced: builds write two files). */
  watch(onReload?: (version: string) => void): void {
    this.watcher = watch(this.dir, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        void this.reload().then((changed) => changed && onReload?.(this.version));
      }, 150);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}

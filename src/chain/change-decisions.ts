import { hash } from 'node:crypto';
import type { Decision } from '../policy/decision.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { PolicyInput } from '../policy/input.js';

/** At most this many inputs are remembered (then the oldest goes first). */
const MAX_ENTRIES = 256;
/** Inputs longer than this (as JSON text) are decided every time (a repeat is unlikely). */
const MAX_INPUT_CHARS = 8192;

/**
 * The policy's decisions on changes, remembered by their exact input. The policy is a pure
 * function of its input (no clock, no I/O; see ReadDecisions), so the same input text under the
 * same bundle version gets the same decision: a change asked again and again (`kubectl auth
 * can-i`, an agent's SelfSubjectAccessReviews, a re-applied manifest) skips the wasm evaluation.
 * The key is the whole input as the policy would read it (request, caller, cluster, body, live
 * object), so nothing the policy sees can differ between two requests sharing an entry.
 * Remembered decisions are frozen: every request that gets one reads the same object. Entries are
 * keyed by the SHA-256 of the text, not the text: most changes are asked once, and 256 texts of
 * a few KB each, pushed out one by one, were old-generation garbage the size of the requests.
 */
export class ChangeDecisions {
  private byInput = new Map<string, Decision>();
  private version = '';

  decide(policy: PolicyEngine, input: PolicyInput): Decision {
    const text = JSON.stringify(input);
    if (text.length > MAX_INPUT_CHARS) return policy.decideJson(text);
    const key = hash('sha256', text, 'base64');
    if (policy.version === this.version) {
      const seen = this.byInput.get(key);
      if (seen) return seen;
    }
    const decision = deepFreeze(policy.decideJson(text));
    // a decision names the bundle that made it: a new version empties what the old one decided
    if (decision.policy !== this.version) {
      this.byInput = new Map();
      this.version = decision.policy;
    }
    if (this.byInput.size >= MAX_ENTRIES) this.byInput.delete(this.byInput.keys().next().value as string);
    this.byInput.set(key, decision);
    return decision;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

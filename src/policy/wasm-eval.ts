import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';

/**
 * One evaluation of a compiled policy: the input in, the result set out (as opa-wasm returns it).
 * `text` is the input's JSON when the caller has it already (it is not serialised again).
 */
export type Evaluator = (input: unknown, text?: string) => unknown;

const PAGE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface OpaExports {
  opa_eval(
    reserved: number,
    entrypoint: number,
    data: number,
    input: number,
    inputLen: number,
    heap: number,
    format: number,
  ): number;
}

/**
 * opa-wasm's `evaluate` (ABI 1.2 one-call path), without its per-call garbage: the input's
 * JSON is encoded straight into wasm memory (no intermediate byte array and copy), the
 * result's end is found natively, and one encoder and decoder serve every call. Same calls
 * into the wasm, same result; bundles built for an older ABI use opa-wasm's own path.
 */
export function makeEvaluator(policy: LoadedPolicy, entrypoint: string): Evaluator {
  const id = (policy.entrypoints as Record<string, number>)[entrypoint];
  if (id === undefined) throw new Error(`entrypoint ${entrypoint} is not valid in this policy`);
  const instance = policy.wasmInstance as WebAssembly.Instance;
  if (!(Number(policy.minorVersion) >= 2) || !instance.exports?.opa_eval) {
    return (input, text) => policy.evaluate(text === undefined ? input : encoder.encode(text).buffer, id);
  }
  const exports = instance.exports as unknown as OpaExports;
  return (input, given) => {
    // as opa-wasm: a falsy input is "no input" (0 bytes at address 0)
    const text = given ?? (input ? JSON.stringify(input) : '');
    const addr: number = policy.dataHeapPtr;
    const len = text ? encodeAt(policy, text, addr) : 0;
    const ret = exports.opa_eval(0, id, policy.dataAddr, len ? addr : 0, len, addr + len, 0);
    // the buffer may have been replaced by growth during the evaluation: read it afresh
    const mem = new Uint8Array(policy.mem.buffer);
    return JSON.parse(decoder.decode(mem.subarray(ret, mem.indexOf(0, ret))));
  };
}

/** Writes text as UTF-8 into wasm memory at addr, growing the memory if it does not fit; its length. */
function encodeAt(policy: LoadedPolicy, text: string, addr: number): number {
  let r = encoder.encodeInto(text, new Uint8Array(policy.mem.buffer, addr));
  if (r.read < text.length) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    const need = addr + text.length * 3 - policy.mem.buffer.byteLength;
    policy.mem.grow(Math.ceil(need / PAGE));
    r = encoder.encodeInto(text, new Uint8Array(policy.mem.buffer, addr));
  }
  return r.written;
}

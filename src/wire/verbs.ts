/**
 * Kubernetes verbs as both sides of the approval see them: the server decides on them,
 * approve-cli shows and recomputes them. Only what both sides need lives here.
 */

/** The HTTP method each resource verb arrives as. `connect` is GET or POST, so it has none. */
const METHOD_OF_VERB = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
} as const;

export type MethodVerb = keyof typeof METHOD_OF_VERB;
export type VerbMethod = (typeof METHOD_OF_VERB)[MethodVerb];

/** The HTTP method of a resource verb, or undefined for `connect` and non-resource verbs. */
export function methodOfVerb(verb: string): VerbMethod | undefined {
  return Object.hasOwn(METHOD_OF_VERB, verb) ? METHOD_OF_VERB[verb as MethodVerb] : undefined;
}

/** Verbs that write an object, and so may be dry-run where the apiserver honours it. */
const WRITE_VERBS: readonly string[] = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * Where the apiserver honours `dryRun`: resource writes and their status/scale. Elsewhere
 * (exec, serviceaccounts/token, eviction…) a "dry run" may really act, so kubegate never
 * relies on one there: no unapproved dry run, no decode, no preview.
 */
export function honoursDryRun(kr: { resource: string; subresource: string; verb: string }): boolean {
  return (
    kr.resource !== '' && ['', 'status', 'scale'].includes(kr.subresource) && WRITE_VERBS.includes(kr.verb)
  );
}

/** A delete of one object or of a collection. */
export function isDelete(kr: { verb: string }): boolean {
  return kr.verb === 'delete' || kr.verb === 'deletecollection';
}

/** DeleteOptions a DELETE may carry in its query (a deletecollection's list options stay there). */
export const DELETE_OPTION_PARAMS: readonly string[] = [
  'dryRun',
  'gracePeriodSeconds',
  'propagationPolicy',
  'orphanDependents',
  'ignoreStoreReadErrorWithClusterBreakingPotential',
];

/** The HTTP method of a proxy request, which the backend receives as is (bound into its approval). */
export function proxyMethodOf(kr: { subresource: string; method?: string | undefined }): string | undefined {
  return kr.subresource === 'proxy' ? kr.method : undefined;
}

/** What approve-cli shows beside a held request: the apiserver's own view of the change. */
export interface Preview {
  available: boolean;
  reason?: string;
  status?: number;
  /** The object as the apiserver would store it (defaults and admission mutations applied). */
  object?: unknown;
  message?: string;
  /** What the result is compared with: the live subresource (scale, status) when it is not the object. */
  live?: unknown;
  /** Where the result comes from when it is not a fresh dry run. */
  source?: string;
  /** A Namespace delete: how many objects of each kind it would take with it (where readable). */
  contents?: Record<string, number | string>;
}

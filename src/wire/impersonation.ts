/** The Impersonate-* headers a client sent: part of what an approval covers. */
export interface Impersonation {
  user: string | null;
  uid: string | null;
  groups: string[];
  extra: Record<string, string[]>;
}

export function hasImpersonation(imp: Impersonation): boolean {
  return imp.user !== null || imp.uid !== null || imp.groups.length > 0 || Object.keys(imp.extra).length > 0;
}

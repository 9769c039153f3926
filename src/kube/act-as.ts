/**
 * The credentials kubegate sends when it acts as a person (the approver who asked for a rollback,
 * the requester of a previewed change): its own token, impersonating that user and their groups,
 * so their RBAC bounds what it does. `system:authenticated` is added by the apiserver itself.
 */
export function actAs(own: string, user: string, groups: string[] = []): Record<string, string | string[]> {
  const named = groups.filter((g) => g !== 'system:authenticated');
  return {
    authorization: own,
    'impersonate-user': user,
    ...(named.length ? { 'impersonate-group': named } : {}),
  };
}

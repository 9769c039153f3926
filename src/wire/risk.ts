/**
 * The four risk classes, lowest first. The policy decides which applies; the server,
 * its metrics and approve-cli all read the names from here so they cannot drift apart.
 */
export const RISKS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Risk = (typeof RISKS)[number];

export function isRisk(value: unknown): value is Risk {
  return (RISKS as readonly unknown[]).includes(value);
}

import { readLines } from './lines.js';
import type { AuditLog } from './log.js';

const OUTCOMES = new Set(['executed', 'failed', 'interrupted']);

/**
 * After a crash, a change may have been forwarded without its outcome being
 * recorded. On start, each such request gets an `interrupted` record (status
 * unknown) so the log says plainly which changes need checking in the cluster.
 * An outcome rides the group commit after its write-ahead record (it is not
 * fsynced on its own), so a crash may also lose an outcome kubegate had
 * already seen: it is reported here the same way, as unknown, never guessed.
 */
export async function markInterrupted(log: AuditLog): Promise<string[]> {
  const open = new Map<string, Record<string, unknown>>();
  for await (const line of readLines(log.path)) {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line.text) as Record<string, unknown>;
    } catch {
      continue;
    }
    const id = typeof rec.request_id === 'string' ? rec.request_id : undefined;
    if (!id) continue;
    if (rec.event === 'forwarded') open.set(id, rec);
    else if (OUTCOMES.has(String(rec.event))) open.delete(id);
  }
  for (const [id, rec] of open) {
    await log.append({
      event: 'interrupted',
      request_id: id,
      ...(typeof rec.action === 'string' ? { action: rec.action } : {}),
      ...(typeof rec.resource === 'string' ? { resource: rec.resource } : {}),
      ...(typeof rec.user === 'string' ? { user: rec.user } : {}),
      status: 'unknown',
      message:
        'kubegate stopped after forwarding and before its outcome record was durable; check the object in the cluster',
    });
  }
  return [...open.keys()];
}

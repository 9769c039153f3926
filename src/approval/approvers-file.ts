import { type FSWatcher, readFileSync, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ApproverJwks } from '../wire/approver-key.js';

/**
 * kubegate's approvers file: a JWKS of approvers' public keys, each naming its owner (`name`)
 * and, for approver scopes, the groups that owner belongs to (`groups`). Groups live here, with
 * kubegate, never in a token an approver could edit.
 */
export function loadApprovers(file: string): ApproverJwks {
  let j: { keys?: unknown };
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(j?.keys)) throw new Error(`${file}: expected {"keys": [...]}`);
  for (const [i, k] of (j.keys as Record<string, unknown>[]).entries()) {
    const at = `${file}: keys[${i}]`;
    if (typeof k?.kid !== 'string' || typeof k.name !== 'string')
      throw new Error(`${at}: every key needs kid and name`);
    if ('d' in k) throw new Error(`${at} (${k.kid}): holds a private key; only public keys belong here`);
    const groups = k.groups;
    if (groups !== undefined && (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string' || !g)))
      throw new Error(`${at} (${k.kid}): groups must be a list of group names`);
  }
  return j as ApproverJwks;
}

function summary(jwks: ApproverJwks): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of jwks.keys) out.set(`${k.name} (${k.kid})`, [...(k.groups ?? [])].sort().join(','));
  return out;
}

/** Who a new approvers file adds, removes, or moves between groups (for the log). */
export function approverChanges(before: ApproverJwks, after: ApproverJwks) {
  const a = summary(before);
  const b = summary(after);
  return {
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    regrouped: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)),
  };
}

/**
 * The approvers file, reloaded when it changes (debounced; editors write in steps) and on
 * SIGHUP. A broken file is refused and the keys in force stay.
 */
export class Approvers {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onHup = () => this.reload();

  private constructor(
    private current: ApproverJwks,
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  static open(file: string, logger: Logger): Approvers {
    return new Approvers(loadApprovers(file), file, logger);
  }

  get jwks(): ApproverJwks {
    return this.current;
  }

  reload(): void {
    let next: ApproverJwks;
    try {
      next = loadApprovers(this.file);
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        'approvers file refused; the approvers in force stay',
      );
      return;
    }
    const change = approverChanges(this.current, next);
    this.current = next;
    if (change.added.length || change.removed.length || change.regrouped.length)
      this.logger.info({ file: this.file, ...change }, 'approvers reloaded');
  }

  /**
   * Watches the file's directory: an editor or `mv` replaces the file (a file watch would lose
   * it), and a mounted Secret changes by swapping its `..data` link, not the file's name.
   */
  watch(): void {
    process.on('SIGHUP', this.onHup);
    const base = path.basename(this.file);
    this.watcher = watch(path.dirname(this.file), (_event, name) => {
      if (name !== null && name !== base && !name.startsWith('..')) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), 150);
    });
  }

  close(): void {
    process.off('SIGHUP', this.onHup);
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}

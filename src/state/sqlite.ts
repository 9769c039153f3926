import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PlanView } from '../wire/plan-view.js';
import type { PendingRequest, PendingStatus, Snapshot } from '../wire/request-view.js';
import type { PruneRules, StateStore, StoredApproval } from './store.js';

/** The embedded default store: one SQLite file (WAL, synchronous=FULL so a restart never reopens a replay). */
export class SqliteStore implements StateStore {
  private db: Database.Database;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // SQLite's own default page cache (2 MB) rather than better-sqlite3's 16 MB: lookups are by
    // index, the OS caches the file anyway, and 10 000 held requests filled all 16 MB
    this.db.pragma('cache_size = -2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS pending (
        id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS pending_fp_time ON pending(fingerprint, status, created_at);
      DROP INDEX IF EXISTS pending_fp;
      CREATE TABLE IF NOT EXISTS approvals (
        jti TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, approver TEXT NOT NULL, exp INTEGER NOT NULL,
        used_at INTEGER, revoked_at INTEGER, doc TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS approvals_fp ON approvals(fingerprint);
      CREATE TABLE IF NOT EXISTS used_jti (jti TEXT PRIMARY KEY, exp INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS dryruns (fingerprint TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS snapshots (request_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS plans (id TEXT PRIMARY KEY, updated_at INTEGER NOT NULL, doc TEXT NOT NULL);
    `);
    this.countPendingByTrigger();
  }

  /**
   * How many requests are pending, kept by triggers: every new held request asks (the
   * max_held_requests limit), and counting the rows was a scan of every pending entry each time,
   * 10 000 held requests cost 50 million index steps. Recounted at every open, so a count left
   * wrong by anything (an older kubegate on the same file) is right again on the next start.
   */
  private countPendingByTrigger(): void {
    // a REPLACE's implicit delete fires the delete trigger only with recursive triggers on
    this.db.pragma('recursive_triggers = ON');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TRIGGER IF NOT EXISTS pending_count_insert AFTER INSERT ON pending WHEN NEW.status = 'pending'
        BEGIN UPDATE counts SET n = n + 1 WHERE name = 'pending'; END;
      CREATE TRIGGER IF NOT EXISTS pending_count_delete AFTER DELETE ON pending WHEN OLD.status = 'pending'
        BEGIN UPDATE counts SET n = n - 1 WHERE name = 'pending'; END;
      CREATE TRIGGER IF NOT EXISTS pending_count_update AFTER UPDATE OF status ON pending
        WHEN (OLD.status = 'pending') <> (NEW.status = 'pending')
        BEGIN UPDATE counts SET n = n + (CASE WHEN NEW.status = 'pending' THEN 1 ELSE -1 END) WHERE name = 'pending'; END;
    `);
    this.db
      .transaction(() =>
        this.db.exec(
          "INSERT OR REPLACE INTO counts (name, n) SELECT 'pending', count(*) FROM pending WHERE status = 'pending'",
        ),
      )
      .immediate();
  }

  private statements = new Map<string, Database.Statement>();

  /** Statements are prepared once (reads are frequent). */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private row(doc: string | undefined): PendingRequest | undefined {
    return doc ? (JSON.parse(doc) as PendingRequest) : undefined;
  }

  async getPending(id: string) {
    const r = this.stmt('SELECT doc FROM pending WHERE id = ?').get(id) as { doc: string } | undefined;
    return this.row(r?.doc);
  }

  /**
   * The newest pending record of a fingerprint in one of `statuses`: one index lookup per status
   * (an IN list or a sort makes SQLite open a temporary table, and its ~90 KB page cache, on
   * every call: once per held request).
   */
  async findPendingByFingerprint(fingerprint: string, statuses: PendingStatus[] = ['pending', 'approved']) {
    const newest = this.stmt(
      'SELECT doc, created_at AS at FROM pending WHERE fingerprint = ? AND status = ? ORDER BY created_at DESC LIMIT 1',
    );
    let found: { doc: string; at: number } | undefined;
    for (const status of statuses) {
      const r = newest.get(fingerprint, status) as { doc: string; at: number } | undefined;
      if (r && (!found || r.at > found.at)) found = r;
    }
    return this.row(found?.doc);
  }

  async listPending(statuses: PendingStatus[] = ['pending', 'approved']) {
    const rows = this.stmt(
      `SELECT doc FROM pending WHERE status IN (${statuses.map(() => '?').join(',')}) ORDER BY created_at`,
    ).all(...statuses) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as PendingRequest);
  }

  async putPending(p: PendingRequest) {
    this.stmt(
      'INSERT OR REPLACE INTO pending (id, fingerprint, status, created_at, doc) VALUES (?, ?, ?, ?, ?)',
    ).run(p.id, p.fingerprint, p.status, p.createdAt, JSON.stringify(p));
  }

  async transitionPending(id: string, from: PendingStatus[], to: PendingStatus, message?: string) {
    const tx = this.db.transaction(() => {
      const p = this.row(
        (this.stmt('SELECT doc FROM pending WHERE id = ?').get(id) as { doc: string } | undefined)?.doc,
      );
      if (!p || !from.includes(p.status)) return false;
      p.status = to;
      p.updatedAt = Date.now();
      if (message !== undefined) p.message = message;
      this.stmt('UPDATE pending SET status = ?, doc = ? WHERE id = ?').run(to, JSON.stringify(p), id);
      return true;
    });
    return tx.immediate();
  }

  async countPending() {
    return (this.stmt("SELECT n FROM counts WHERE name = 'pending'").get() as { n: number }).n;
  }

  async addApproval(a: StoredApproval) {
    const tx = this.db.transaction(() => {
      const seen = this.stmt('SELECT 1 FROM used_jti WHERE jti = ?').get(a.jti);
      if (seen) return false;
      this.stmt('INSERT INTO used_jti (jti, exp) VALUES (?, ?)').run(a.jti, a.exp);
      this.stmt(
        'INSERT INTO approvals (jti, fingerprint, approver, exp, used_at, revoked_at, doc) VALUES (?, ?, ?, ?, ?, NULL, ?)',
      ).run(a.jti, a.fingerprint, a.approver, a.exp, a.usedAt ?? null, JSON.stringify(a));
      return true;
    });
    return tx.immediate();
  }

  async approvalsFor(fingerprint: string, now: number) {
    const rows = this.stmt(
      'SELECT doc FROM approvals WHERE fingerprint = ? AND used_at IS NULL AND revoked_at IS NULL AND exp > ?',
    ).all(fingerprint, Math.floor(now / 1000)) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as StoredApproval);
  }

  async consumeApprovals(jtis: string[], now: number) {
    const tx = this.db.transaction(() => {
      const upd = this.stmt(
        'UPDATE approvals SET used_at = ? WHERE jti = ? AND used_at IS NULL AND revoked_at IS NULL',
      );
      for (const j of jtis) {
        if (upd.run(now, j).changes !== 1) throw new Error('approval already used or revoked');
      }
    });
    try {
      tx.immediate();
      return true;
    } catch {
      return false;
    }
  }

  async releaseApprovals(jtis: string[]) {
    const upd = this.stmt('UPDATE approvals SET used_at = NULL WHERE jti = ?');
    this.db.transaction(() => {
      for (const j of jtis) upd.run(j);
    })();
  }

  async revokeApprovals(filter: { jtis?: string[]; fingerprint?: string; approver?: string }, now: number) {
    const where: string[] = ['revoked_at IS NULL'];
    const args: (string | number)[] = [now];
    if (filter.jtis) {
      where.push(`jti IN (${filter.jtis.map(() => '?').join(',') || "''"})`);
      args.push(...filter.jtis);
    }
    if (filter.fingerprint) {
      where.push('fingerprint = ?');
      args.push(filter.fingerprint);
    }
    if (filter.approver) {
      where.push('approver = ?');
      args.push(filter.approver);
    }
    const sql = `UPDATE approvals SET revoked_at = ? WHERE ${where.join(' AND ')} AND used_at IS`;
    return this.db.transaction(() => {
      // in use by a run under way: not counted, but marked, so a give-back does not revive them
      this.stmt(`${sql} NOT NULL`).run(...args);
      return this.stmt(`${sql} NULL`).run(...args).changes;
    })();
  }

  async useJti(jti: string, exp: number) {
    return this.stmt('INSERT OR IGNORE INTO used_jti (jti, exp) VALUES (?, ?)').run(jti, exp).changes === 1;
  }

  async markWithdrawn(fingerprint: string, at: number) {
    this.stmt('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)').run(
      `withdrawn:${fingerprint}`,
      String(at),
    );
  }

  async withdrawnAt(fingerprint: string) {
    const r = this.stmt('SELECT value FROM kv WHERE key = ?').get(`withdrawn:${fingerprint}`) as
      | { value: string }
      | undefined;
    return r ? Number(r.value) : 0;
  }

  async recordDryRun(fingerprint: string, at: number) {
    this.stmt('INSERT OR REPLACE INTO dryruns (fingerprint, at) VALUES (?, ?)').run(fingerprint, at);
  }

  async hasDryRun(fingerprint: string) {
    return !!this.stmt('SELECT 1 FROM dryruns WHERE fingerprint = ?').get(fingerprint);
  }

  async getFreeze() {
    const r = this.stmt("SELECT value FROM kv WHERE key = 'freeze'").get() as { value: string } | undefined;
    return r
      ? (JSON.parse(r.value) as { on: boolean; by?: string; at?: number; reason?: string })
      : { on: false };
  }

  async setFreeze(f: { on: boolean; by: string; at: number; reason?: string }) {
    this.stmt("INSERT OR REPLACE INTO kv (key, value) VALUES ('freeze', ?)").run(JSON.stringify(f));
  }

  async putSnapshot(s: Snapshot) {
    this.stmt('INSERT OR REPLACE INTO snapshots (request_id, doc) VALUES (?, ?)').run(
      s.requestId,
      JSON.stringify(s),
    );
  }

  async getSnapshot(requestId: string) {
    const r = this.stmt('SELECT doc FROM snapshots WHERE request_id = ?').get(requestId) as
      | { doc: string }
      | undefined;
    return r ? (JSON.parse(r.doc) as Snapshot) : undefined;
  }

  async createPlan(p: PlanView) {
    return (
      this.stmt('INSERT OR IGNORE INTO plans (id, updated_at, doc) VALUES (?, ?, ?)').run(
        p.id,
        p.updatedAt,
        JSON.stringify(p),
      ).changes === 1
    );
  }

  async getPlan(id: string) {
    const r = this.stmt('SELECT doc FROM plans WHERE id = ?').get(id) as { doc: string } | undefined;
    return r ? (JSON.parse(r.doc) as PlanView) : undefined;
  }

  async listPlans() {
    const rows = this.stmt('SELECT doc FROM plans ORDER BY id').all() as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as PlanView);
  }

  async updatePlan(id: string, change: (p: PlanView) => PlanView | undefined) {
    // one transaction: SQLite serialises writers, so the read and the write cannot interleave
    return this.db
      .transaction(() => {
        const r = this.stmt('SELECT doc FROM plans WHERE id = ?').get(id) as { doc: string } | undefined;
        if (!r) return undefined;
        const cur = JSON.parse(r.doc) as PlanView;
        const next = change(cur);
        if (!next) return cur;
        this.stmt('UPDATE plans SET updated_at = ?, doc = ? WHERE id = ?').run(
          next.updatedAt,
          JSON.stringify(next),
          id,
        );
        return next;
      })
      .immediate();
  }

  async prune(r: PruneRules) {
    const expiredSec = Math.floor(r.tokensExpiredBefore / 1000);
    const deletes: [string, number][] = [
      ['DELETE FROM approvals WHERE exp < ?', expiredSec],
      ['DELETE FROM used_jti WHERE exp < ?', expiredSec],
      ["DELETE FROM kv WHERE key LIKE 'withdrawn:%' AND CAST(value AS INTEGER) < ?", r.tokenWindowBefore],
      ["DELETE FROM pending WHERE json_extract(doc, '$.updatedAt') < ?", r.recordsBefore],
      ['DELETE FROM dryruns WHERE at < ?', r.recordsBefore],
      ["DELETE FROM snapshots WHERE json_extract(doc, '$.createdAt') < ?", r.recordsBefore],
      ['DELETE FROM plans WHERE updated_at < ?', r.recordsBefore],
    ];
    return this.db.transaction(() =>
      deletes.reduce((n, [sql, bound]) => n + this.stmt(sql).run(bound).changes, 0),
    )();
  }

  /**
   * Another process sharing the file (another replica) changed it: `PRAGMA data_version` moves
   * only for commits by other connections, so one cheap poll a second tells, and this process's
   * own changes (announced in process) never wake anyone twice. It cannot tell which request
   * changed: every held request looks again.
   */
  watchNews(onNews: (key: string) => void): () => void {
    const version = () => this.db.pragma('data_version', { simple: true }) as number;
    let seen = version();
    const timer = setInterval(() => {
      if (!this.db.open) return;
      const now = version();
      if (now !== seen) onNews('*');
      seen = now;
    }, NEWS_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  newsKey(fingerprint: string): string {
    return fingerprint;
  }

  async close() {
    this.db.close();
  }
}

/** How often the file is checked for other processes' changes. */
const NEWS_POLL_MS = 1000;

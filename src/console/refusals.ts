import type { AuditInput } from '../audit/types.js';
import type { Metrics } from '../metrics.js';

/** Records per source per minute; past them a refusal is only counted. */
export const REFUSALS_PER_MINUTE = 5;
const WINDOW_MS = 60_000;
/** Sources tracked one by one; past this many, the rest share one bucket (memory stays bounded). */
const MAX_SOURCES = 1000;
const OTHERS = '(other sources)';

interface Window {
  start: number;
  recorded: number;
  suppressed: number;
}

interface Sink {
  append(input: AuditInput): Promise<unknown>;
}

/**
 * Refused console calls (failed sign-ins, bad ceremonies): always counted in the metrics, put on
 * record at most REFUSALS_PER_MINUTE per source, and the rest summed into one
 * `console_refusals_suppressed` record per source and minute, so a flood of unauthenticated
 * requests cannot flood the audit log.
 */
export class RefusalLog {
  private readonly bySource = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: Sink,
    private readonly metrics?: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.flush(), WINDOW_MS);
    this.timer.unref();
  }

  /** Counts one refusal and records it while its source is under the limit. */
  async refused(source: string, record: AuditInput): Promise<void> {
    this.metrics?.refusedCaller('console');
    const w = this.window(source);
    if (w.recorded >= REFUSALS_PER_MINUTE) {
      w.suppressed++;
      return;
    }
    w.recorded++;
    await this.log.append({ ...record, source });
  }

  /** Writes the summaries of windows that ended and forgets them. */
  flush(all = false): void {
    const now = this.now();
    for (const [source, w] of this.bySource) {
      if (!all && now - w.start < WINDOW_MS) continue;
      this.bySource.delete(source);
      this.summary(source, w);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private window(source: string): Window {
    const now = this.now();
    const key = this.bySource.has(source) || this.bySource.size < MAX_SOURCES ? source : OTHERS;
    const w = this.bySource.get(key);
    if (w && now - w.start < WINDOW_MS) return w;
    if (w) this.summary(key, w);
    const fresh = { start: now, recorded: 0, suppressed: 0 };
    this.bySource.set(key, fresh);
    return fresh;
  }

  private summary(source: string, w: Window): void {
    if (!w.suppressed) return;
    void this.log
      .append({
        event: 'console_refusals_suppressed',
        status: 'refused',
        source,
        count: w.suppressed,
        since: new Date(w.start).toISOString(),
        message: `${w.suppressed} more refused console calls from ${source} were counted, not recorded one by one`,
      })
      .catch(() => undefined);
  }
}

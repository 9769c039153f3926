// `approve-cli watch`: the held requests as `list` prints them, printed again whenever kubegate's
// watch stream (server-sent events) reports a change, for an approver who keeps a terminal open.
// The list is fetched only on a change (debounced) or a reconnect, never on a fixed poll.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandContext } from './commands.js';
import { ApiStatusError } from './errors.js';
import { renderList } from './render.js';

/** Changes that come together (an approval, then the run it starts) are fetched once. */
export const DEBOUNCE_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/** How long to wait before the next try after `failures` drops in a row: 250 ms, doubling, up to 5 s. */
export const backoffMs = (failures: number): number => Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures);

/** One `request` event: which request, and what happened to it. */
function changeOf(data: string): string {
  try {
    const c = JSON.parse(data) as { id?: unknown; what?: unknown };
    if (typeof c.id === 'string' && typeof c.what === 'string') return `${c.id} ${c.what}`;
  } catch {
    // not JSON: still a change, just not a named one
  }
  return 'a change';
}

/** The list on screen: re-fetched and printed after a change; after a reconnect only if it differs. */
class LiveList {
  private shown = '';
  private changes: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: CommandContext) {}

  /** Fetches and prints the list (the first time, a failure is the command's: kubegate unreachable). */
  async print(): Promise<void> {
    const res = await this.ctx.client.list();
    const what = this.changes.length ? this.changes.join(', ') : 'held requests';
    this.changes = [];
    // compared as data: the AGE column alone must not print the list again after a reconnect
    const data = JSON.stringify(res);
    if (what === 'held requests' && data === this.shown) return;
    this.shown = data;
    const text = renderList(res, this.ctx.now());
    const tty = (this.ctx.stdout as { isTTY?: boolean }).isTTY === true;
    const head = `--- ${new Date(this.ctx.now()).toISOString()}: ${what} (Ctrl-C to stop) ---\n`;
    this.ctx.stdout.write(`${tty ? '\x1b[2J\x1b[H' : ''}${head}${text}`);
  }

  changed(what: string): void {
    this.changes.push(what);
    this.schedule();
  }

  /** After a (re)connect: events may have been missed meanwhile. */
  resync(): void {
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.chain = this.chain.then(() => this.print()).catch((err: Error) => this.failed(err));
    }, DEBOUNCE_MS);
  }

  private failed(err: Error): void {
    this.ctx.stderr.write(`approve-cli watch: cannot fetch the list: ${err.message}\n`);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.chain;
  }
}

/** Follows one watch stream to its end: 'expired' when kubegate ended it because the token expired. */
async function follow(
  ctx: CommandContext,
  live: LiveList,
  signal: AbortSignal,
): Promise<'expired' | 'closed'> {
  const events = await ctx.client.watch(signal);
  live.resync();
  for await (const ev of events) {
    if (ev.event === 'expired') return 'expired';
    if (ev.event === 'request') live.changed(changeOf(ev.data));
  }
  return 'closed';
}

/** kubegate refused the watch itself (a key it does not know, no watch endpoint): retrying will not help. */
const refused = (err: unknown) =>
  err instanceof ApiStatusError && err.code >= 400 && err.code < 500 && err.code !== 429;

/** Reconnects until stopped: at once with a fresh read token after `expired`, with a backoff after a drop. */
async function followForever(ctx: CommandContext, live: LiveList, signal: AbortSignal): Promise<void> {
  let drops = 0;
  while (!signal.aborted) {
    try {
      if ((await follow(ctx, live, signal)) === 'expired') {
        drops = 0;
        continue;
      }
      ctx.stderr.write('approve-cli watch: kubegate closed the stream; reconnecting\n');
    } catch (err) {
      if (signal.aborted) return;
      if (refused(err)) throw err;
      ctx.stderr.write(`approve-cli watch: ${(err as Error).message}; reconnecting\n`);
    }
    await sleep(backoffMs(drops++), undefined, { signal }).catch(() => undefined);
  }
}

/** Stops on Ctrl-C (exit 0) or when the caller's signal aborts (tests). */
function stopSignal(ctx: CommandContext): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  ctx.signal?.addEventListener('abort', stop, { once: true });
  if (ctx.signal?.aborted) stop();
  return {
    signal: ac.signal,
    release: () => {
      process.off('SIGINT', stop);
      ctx.signal?.removeEventListener('abort', stop);
    },
  };
}

export async function watch(ctx: CommandContext): Promise<number> {
  const live = new LiveList(ctx);
  await live.print();
  const { signal, release } = stopSignal(ctx);
  try {
    await followForever(ctx, live, signal);
  } finally {
    release();
    await live.stop();
  }
  return 0;
}

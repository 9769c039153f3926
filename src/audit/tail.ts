// `kubegate audit tail`: the last N records, then (with follow) new ones as they are appended.
import { stat } from 'node:fs/promises';
import { lastLines, readLines } from './lines.js';

export interface TailOptions {
  lines: number;
  follow: boolean;
  /** Stops following (the CLI aborts it on SIGINT). */
  signal?: AbortSignal;
  /** Poll interval while following; polling works on every filesystem, fs.watch does not. */
  pollMs?: number;
  emit: (line: string) => void | Promise<void>;
  /** Told when the file shrank (replaced or truncated) and is re-read from the start. */
  onReset?: () => void;
}

export async function tailFile(path: string, opts: TailOptions): Promise<void> {
  const { lines, end } = await lastLines(path, opts.lines);
  for (const line of lines) await opts.emit(line);
  if (!opts.follow) return;
  // Follow from the end of the last complete line: a torn tail is shown once it is completed.
  let pos = end;
  const pollMs = opts.pollMs ?? 250;
  while (!opts.signal?.aborted) {
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    if (size >= 0 && size < pos) {
      opts.onReset?.();
      pos = 0;
    }
    if (size > pos) {
      for await (const line of readLines(path, pos)) {
        if (!line.complete) break;
        await opts.emit(line.text);
        pos = line.end;
      }
    }
    await delay(pollMs, opts.signal);
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

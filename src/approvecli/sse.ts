// Server-sent events (the WHATWG text/event-stream format), as much of it as kubegate's watch uses:
// `event:` and `data:` fields, comments (`: ping`), events ended by a blank line.

export interface SseEvent {
  /** The `event:` field; "message" when there is none. */
  event: string;
  /** The `data:` lines, joined with newlines. */
  data: string;
}

/** Events longer than this are dropped: kubegate's are a few dozen bytes. */
const MAX_EVENT = 64 * 1024;

/** Folds one line of an event into it; comments and unknown fields are skipped. */
function applyLine(line: string, ev: { event: string; data: string[] }): void {
  if (line.startsWith(':')) return;
  const colon = line.indexOf(':');
  const field = colon < 0 ? line : line.slice(0, colon);
  const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
  if (field === 'event') ev.event = value;
  else if (field === 'data') ev.data.push(value);
}

/** One event's text (its lines, without the blank line that ends it), or undefined for comments only. */
export function parseEvent(block: string): SseEvent | undefined {
  const ev = { event: '', data: [] as string[] };
  for (const line of block.split(/\r\n|\r|\n/)) applyLine(line, ev);
  if (!ev.event && !ev.data.length) return undefined;
  return { event: ev.event || 'message', data: ev.data.join('\n') };
}

/** Reads a stream of text chunks (split anywhere, even inside a UTF-8 character) as events. */
export async function* readEvents(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of chunks) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const blocks = buffered.split(/\r\n\r\n|\n\n|\r\r/);
    buffered = blocks.pop() ?? '';
    if (buffered.length > MAX_EVENT) buffered = '';
    for (const block of blocks) {
      const ev = parseEvent(block);
      if (ev) yield ev;
    }
  }
}

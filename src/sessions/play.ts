import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkRecording, recordedSessions } from './recordings.js';

export interface PlayOptions {
  speed: number;
  wait: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * `kubegate audit play ID`: the session's output, with its timing (divided by speed, or none
 * with --no-wait), after checking the recording against the hash in the audit log.
 * Returns the exit code: 0 played, 1 no recording or it does not match its record.
 */
export async function playSession(auditFile: string, requestId: string, o: PlayOptions): Promise<number> {
  const session = (await recordedSessions(auditFile)).filter((s) => s.request_id === requestId).pop();
  if (!session) {
    o.stderr.write(`no recorded session for ${requestId} in ${auditFile}\n`);
    return 1;
  }
  const mismatch = await checkRecording(session);
  if (mismatch) {
    o.stderr.write(`${mismatch}\nnot playing a recording that does not match the audit log\n`);
    return 1;
  }
  let last = 0;
  const lines = createInterface({
    input: createReadStream(session.file),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let first = true;
  for await (const line of lines) {
    if (first) {
      first = false; // the header
      continue;
    }
    const [t, code, text] = JSON.parse(line) as [number, string, string];
    if (o.wait && t > last) await sleep(((t - last) * 1000) / o.speed);
    last = t;
    if (code === 'o') o.stdout.write(text);
    else if (code === 'm') o.stderr.write(`\n[${text}]\n`);
  }
  const exit = session.exit_status === undefined ? '' : `, exit status ${session.exit_status}`;
  o.stderr.write(`[session ${requestId}: ${session.duration_seconds ?? 0}s${exit}]\n`);
  return 0;
}

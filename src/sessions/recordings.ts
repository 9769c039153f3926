import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** What the record that closed a session says about its recording. */
export interface RecordedSession {
  request_id: string;
  /** The cast file, resolved against the audit log's directory. */
  file: string;
  sha256: string;
  bytes: number;
  truncated: boolean;
  exit_status?: number | string;
  duration_seconds?: number;
}

/** Every recorded session in an audit log, in order. */
export async function recordedSessions(auditFile: string): Promise<RecordedSession[]> {
  const out: RecordedSession[] = [];
  const lines = createInterface({ input: createReadStream(auditFile), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (!line.includes('"session_closed"')) continue;
    const r = JSON.parse(line) as {
      event?: string;
      request_id?: string;
      recording?: { file: string; sha256: string; bytes: number; truncated: boolean };
      exit_status?: number | string;
      duration_seconds?: number;
    };
    if (r.event !== 'session_closed' || !r.recording || !r.request_id) continue;
    out.push({
      request_id: r.request_id,
      ...r.recording,
      file: path.resolve(path.dirname(auditFile), r.recording.file),
      ...(r.exit_status !== undefined ? { exit_status: r.exit_status } : {}),
      ...(r.duration_seconds !== undefined ? { duration_seconds: r.duration_seconds } : {}),
    });
  }
  return out;
}

/** Why a recording does not match its record, or undefined when it does. */
export async function checkRecording(s: RecordedSession): Promise<string | undefined> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(s.file)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (err) {
    return `${s.request_id}: recording unreadable: ${(err as Error).message}`;
  }
  const sha256 = hash.digest('hex');
  if (bytes !== s.bytes || sha256 !== s.sha256)
    return `${s.request_id}: recording ${s.file} does not match its record (sha256 ${sha256}, ${bytes} bytes; recorded ${s.sha256}, ${s.bytes} bytes)`;
  return undefined;
}

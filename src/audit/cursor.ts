// The shipping cursor: the last seq a sink has delivered, persisted next to the audit file so a
// restart resumes there (at-least-once: a crash between POST and rename re-sends one batch).
import { open, readFile, rename } from 'node:fs/promises';

const SINK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function cursorPath(auditPath: string, sinkName: string): string {
  if (!SINK_NAME.test(sinkName)) {
    throw new TypeError(`sink name ${JSON.stringify(sinkName)} must match ${SINK_NAME} (it names a file)`);
  }
  return `${auditPath}.cursor-${sinkName}`;
}

/** The stored seq, or 0 when there is no cursor yet (ship everything). */
export async function readCursor(path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const seq = Number(text.trim());
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw new Error(`cursor file ${path} is not a seq: ${text.slice(0, 40)}`);
  return seq;
}

/** Write-temp, fsync, rename: a reader sees the old cursor or the new one, never half of one. */
export async function writeCursor(path: string, seq: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${seq}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

// `kubegate audit play ID` and the recordings half of `kubegate audit verify`.
import { parseArgs } from 'node:util';
import { playSession } from './play.js';
import { checkRecording, recordedSessions } from './recordings.js';

export const PLAY_USAGE =
  '  kubegate audit play ID [--audit FILE] [--speed N] [--no-wait]   (FILE defaults to $KUBEGATE_AUDIT)\n';

export async function playCommand(
  args: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      audit: { type: 'string' },
      speed: { type: 'string', default: '1' },
      'no-wait': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const file = values.audit ?? process.env.KUBEGATE_AUDIT;
  const speed = Number(values.speed);
  if (positionals.length !== 1 || !file || !(speed > 0))
    throw new Error(`play needs one request ID, an audit FILE and a positive --speed\n${PLAY_USAGE}`);
  return playSession(file, positionals[0]!, { speed, wait: !values['no-wait'], ...io });
}

/** Checks every recording an audit file names; the report lines and whether all matched. */
export async function verifyRecordings(file: string): Promise<{ ok: boolean; report: string }> {
  const sessions = await recordedSessions(file);
  if (sessions.length === 0) return { ok: true, report: '' };
  const problems: string[] = [];
  for (const s of sessions) {
    const p = await checkRecording(s);
    if (p) problems.push(p);
  }
  const head = `  recordings: ${sessions.length - problems.length} of ${sessions.length} match their records`;
  return { ok: problems.length === 0, report: `${[head, ...problems.map((p) => `  ${p}`)].join('\n')}\n` };
}

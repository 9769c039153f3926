// `kubegate audit verify|export|tail`: argv (after "audit") in, exit code out.
// Exit codes: 0 ok, 1 verification failed, 2 usage or I/O error.
import type { KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { PLAY_USAGE, playCommand, verifyRecordings } from '../sessions/cli.js';
import { asksForHelp, parseArgsMessage } from '../wire/parse-args-message.js';
import { auditKeyId } from './chain.js';
import { exportRange } from './export.js';
import { loadAuditPublicKey } from './keys.js';
import { type AuditOutput, parseOutput, TABLE_HEADER, tableRow } from './table.js';
import { tailFile } from './tail.js';
import { parseTimeArg } from './time-arg.js';
import { type VerifyResult, verifyAuditFile } from './verify.js';

export interface AuditCommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Ends `tail -f`; when absent, SIGINT does. */
  signal?: AbortSignal;
}

export const AUDIT_USAGE = `usage:
  kubegate audit verify FILE [FILE...] [--key PUB.pem]...
  kubegate audit export FILE [--since TIME] [--until TIME] [--out FILE] [-o json|table]
  kubegate audit tail FILE [-f] [-n N] [-o json|table]
${PLAY_USAGE}TIME is ISO 8601 (2026-01-31T12:00:00Z) or a duration ago (30d, 12h, 15m, 45s, 2w).
`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function runAuditCommand(argv: string[], io: AuditCommandIO): Promise<number> {
  const [command, ...rest] = argv;
  if (command && asksForHelp(rest)) {
    await write(io.stdout, AUDIT_USAGE);
    return 0;
  }
  try {
    switch (command) {
      case 'verify':
        return await verifyCommand(rest, io);
      case 'export':
        return await exportCommand(rest, io);
      case 'tail':
        return await tailCommand(rest, io);
      case 'play':
        return await playCommand(rest, io);
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        await write(io.stdout, AUDIT_USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown audit command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    await write(io.stderr, `kubegate audit: ${parseArgsMessage(err)}\n${usage ? AUDIT_USAGE : ''}`);
    return 2;
  }
}

async function verifyCommand(args: string[], io: AuditCommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { key: { type: 'string', multiple: true } },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('verify needs at least one FILE');
  const keys: KeyObject[] = [];
  for (const path of values.key ?? []) keys.push(await loadAuditPublicKey(path));
  let exit = 0;
  // One file per replica; each has its own chain and is verified on its own.
  for (const file of positionals) {
    let result: VerifyResult;
    try {
      result = await verifyAuditFile(file, keys.length ? keys : undefined);
    } catch (err) {
      await write(io.stderr, `${file}: cannot verify: ${(err as Error).message}\n`);
      exit = Math.max(exit, 2);
      continue;
    }
    await write(result.ok ? io.stdout : io.stderr, describeVerify(file, result, keys));
    if (!result.ok) exit = Math.max(exit, 1);
    // recorded sessions: each file must still match the hash in its chained record
    const recordings = await verifyRecordings(file);
    await write(recordings.ok ? io.stdout : io.stderr, recordings.report);
    if (!recordings.ok) exit = Math.max(exit, 1);
  }
  return exit;
}

/** The human report for one file; every limit of what was proven is spelled out. */
export function describeVerify(file: string, r: VerifyResult, keys: KeyObject[] = []): string {
  const out: string[] = [];
  if (r.ok) {
    const range = r.records > 0 ? ` (seq 1..${r.lastSeq})` : '';
    out.push(`${file}: OK: ${r.records} records${range}, ${r.checkpoints} checkpoints`);
    if (r.passkeyAssertions) out.push(`  ${r.passkeyAssertions} passkey assertions re-checked`);
  } else {
    out.push(
      `${file}: FAILED at seq ${r.firstBadSeq}: ${r.reason} (${r.records} records before it verified)`,
    );
  }
  out.push(signatureLine(r, keys));
  if (r.ok && r.records > 0) {
    if (r.afterLastCheckpoint > 0) {
      const since =
        r.lastCheckpointSeq > 0
          ? `after the last checkpoint (seq ${r.lastCheckpointSeq})`
          : 'and no checkpoint';
      out.push(
        `  note: ${r.afterLastCheckpoint} records ${since} are chained but not signed; ` +
          'they cannot be proven against truncation or rewriting by someone with file access',
      );
    }
    out.push(
      `  note: records removed from the END of a file cannot be detected from the file alone; ` +
        `compare the last record (seq ${r.lastSeq}, hash ${r.lastHash}) with a shipped copy`,
    );
  }
  if (r.tornBytes > 0) {
    out.push(
      `  note: ${r.tornBytes} bytes after the last newline are an unfinished write (crash); ` +
        'kubegate sets them aside when it next opens the log',
    );
  }
  return `${out.join('\n')}\n`;
}

/** What the signatures prove: never "verified" beside a failure, nor where nothing was signed. */
function signatureLine(r: VerifyResult, keys: KeyObject[]): string {
  const ids = keys.map((k) => auditKeyId(k)).join(', ');
  if (r.ok && r.checkpoints === 0)
    return '  no checkpoint in the file: nothing was signed (only the hash chain was checked)';
  if (!r.signaturesVerified)
    return '  checkpoint signatures NOT verified (no --key): only the hash chain was checked';
  if (!r.ok) return `  checked against key ${ids}: NOT verified (see the failure above)`;
  return `  checkpoint signatures verified with key ${ids}`;
}

async function exportCommand(args: string[], io: AuditCommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      out: { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('export needs exactly one FILE');
  const format = outputOf(values.output);
  const now = Date.now();
  let since: Date | undefined;
  let until: Date;
  try {
    since = values.since === undefined ? undefined : parseTimeArg(values.since, now);
    until = values.until === undefined ? new Date(now) : parseTimeArg(values.until, now);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out = values.out ? createWriteStream(values.out, { mode: 0o600 }) : io.stdout;
  try {
    if (format === 'table') await write(out, `${TABLE_HEADER}\n`);
    const result = await exportRange(positionals[0]!, { ...(since && { since }), until }, (line) =>
      write(out, `${format === 'table' ? tableRow(line) : line}\n`),
    );
    if (result.skipped > 0)
      await write(io.stderr, `note: ${result.skipped} lines that are not records skipped\n`);
    if (values.out) await write(io.stderr, `${result.matched} records written to ${values.out}\n`);
  } finally {
    if (values.out) await new Promise<void>((resolve) => out.end(() => resolve()));
  }
  return 0;
}

async function tailCommand(args: string[], io: AuditCommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      output: { type: 'string', short: 'o' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('tail needs exactly one FILE');
  const format = outputOf(values.output);
  const lines = values.lines === undefined ? 10 : Number(values.lines);
  if (!Number.isSafeInteger(lines) || lines < 0)
    throw new UsageError(`-n needs a count, got ${values.lines}`);
  let signal = io.signal;
  let stop: (() => void) | undefined;
  if (values.follow && !signal) {
    const ac = new AbortController();
    stop = () => ac.abort();
    process.once('SIGINT', stop);
    signal = ac.signal;
  }
  try {
    if (format === 'table') await write(io.stdout, `${TABLE_HEADER}\n`);
    await tailFile(positionals[0]!, {
      lines,
      follow: values.follow ?? false,
      ...(signal && { signal }),
      emit: (line) => write(io.stdout, `${format === 'table' ? tableRow(line) : line}\n`),
      onReset: () => void write(io.stderr, 'note: file shrank (replaced?); reading it from the start\n'),
    });
  } finally {
    if (stop) process.removeListener('SIGINT', stop);
  }
  return 0;
}

function outputOf(v: string | undefined): AuditOutput {
  try {
    return parseOutput(v);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Writes with backpressure, so a large export into a slow pipe does not buffer the whole file. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

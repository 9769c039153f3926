import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/** What the record that closes a session says about its recording. */
export interface CastSummary {
  sha256: string;
  bytes: number;
  /** The size cap was hit: the recording ends with a marker and the session was closed. */
  truncated: boolean;
}

export class CapReached extends Error {
  override readonly name = 'CapReached';
}

/** Room kept for the marker line that says the cap was hit. */
const MARKER_ROOM = 256;

/**
 * An asciicast v2 file written as the session streams: each event is on disk (written, not
 * buffered) before the bytes it describes are passed on, and hashed as it is written, so
 * memory stays bounded whatever the session's length.
 */
export class CastWriter {
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private truncated = false;
  private closed: CastSummary | undefined;
  private readonly t0 = process.hrtime.bigint();

  constructor(
    file: string,
    header: Record<string, unknown>,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(file, 'wx', 0o600);
    this.line({ version: 2, ...header });
  }

  /** An output ("o"), input ("i") or resize ("r") event; throws CapReached past the cap. */
  event(code: 'o' | 'i' | 'r', text: string): void {
    if (this.truncated) throw new CapReached('recording size cap reached');
    const line = `${JSON.stringify([this.elapsed(), code, text])}\n`;
    if (this.bytes + Buffer.byteLength(line) > this.maxBytes - MARKER_ROOM) {
      this.truncated = true;
      this.line([
        this.elapsed(),
        'm',
        `kubegate: recording size cap of ${this.maxBytes} bytes reached; session closed`,
      ]);
      throw new CapReached('recording size cap reached');
    }
    this.write(line);
  }

  /** Seconds since the session opened. */
  elapsed(): number {
    return Number((process.hrtime.bigint() - this.t0) / 1000n) / 1e6;
  }

  close(): CastSummary {
    if (this.closed) return this.closed;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
    this.closed = { sha256: this.hash.digest('hex'), bytes: this.bytes, truncated: this.truncated };
    return this.closed;
  }

  private line(value: unknown): void {
    this.write(`${JSON.stringify(value)}\n`);
  }

  private write(line: string): void {
    const b = Buffer.from(line);
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off);
    this.hash.update(b);
    this.bytes += b.length;
  }
}

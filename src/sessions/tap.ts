import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { CastWriter } from './cast.js';
import { FrameReader } from './frames.js';

/** The channel protocols whose frames carry one binary channel byte first (no base64). */
export const RECORDABLE_PROTOCOLS = new Set(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io']);

/** Bounded buffers for the small JSON channels (the exit Status, resize events). */
const SMALL_CHANNEL_MAX = 64 * 1024;

/**
 * Taps both directions of one exec/attach WebSocket session into a cast file: stdout and stderr
 * as output, stdin as input, resizes as "r". A Transform passes a chunk on only after its
 * events were written, so no byte passes unrecorded; a failure to record fails the stream.
 */
export class SessionTap {
  private readonly decoders = new Map<number, StringDecoder>();
  private status = '';
  private resize = '';

  constructor(private readonly cast: CastWriter) {}

  /** Server → client: stdout (1), stderr (2), the error/exit channel (3). */
  toClient(): Transform {
    const reader = new FrameReader((ch, data) => this.fromServer(ch, data));
    return passThroughAfter((chunk) => reader.push(chunk));
  }

  /** Client → server: stdin (0), resize (4). */
  toServer(): Transform {
    const reader = new FrameReader((ch, data) => this.fromClient(ch, data));
    return passThroughAfter((chunk) => reader.push(chunk));
  }

  /** The exit status from the error channel's Status: 0, the command's exit code, or a message. */
  exitStatus(): number | string | undefined {
    if (!this.status) return undefined;
    try {
      const s = JSON.parse(this.status) as {
        status?: string;
        message?: string;
        details?: { causes?: { reason?: string; message?: string }[] };
      };
      if (s.status === 'Success') return 0;
      const code = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
      return code !== undefined && /^\d+$/.test(code) ? Number(code) : (s.message ?? 'failure');
    } catch {
      return 'unreadable exit status';
    }
  }

  private fromServer(channel: number, data: Buffer): void {
    if (channel === 1 || channel === 2) this.cast.event('o', this.text(channel, data));
    else if (channel === 3 && this.status.length < SMALL_CHANNEL_MAX) this.status += data.toString('utf8');
  }

  private fromClient(channel: number, data: Buffer): void {
    if (channel === 0) this.cast.event('i', this.text(channel, data));
    else if (channel === 4) this.resized(data);
  }

  private resized(data: Buffer): void {
    this.resize = (this.resize + data.toString('utf8')).slice(-SMALL_CHANNEL_MAX);
    try {
      const r = JSON.parse(this.resize) as { Width?: number; Height?: number };
      this.resize = '';
      this.cast.event('r', `${r.Width ?? 0}x${r.Height ?? 0}`);
    } catch (err) {
      if ((err as Error).name === 'CapReached') throw err; // otherwise: more of the JSON to come
    }
  }

  /** Text per channel, so a UTF-8 character split across frames is not mangled. */
  private text(channel: number, data: Buffer): string {
    let d = this.decoders.get(channel);
    if (!d) {
      d = new StringDecoder('utf8');
      this.decoders.set(channel, d);
    }
    return d.write(data);
  }
}

/** A Transform that runs `record` on each chunk and passes the chunk on only if it returned. */
function passThroughAfter(record: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        record(chunk);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

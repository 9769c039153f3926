/**
 * An incremental WebSocket frame reader (RFC 6455) for one direction of a tunnel. It holds at
 * most one frame header (14 bytes), never a payload: payload bytes are unmasked and handed on
 * as they arrive, with the first byte of each message split off as the Kubernetes channel
 * (v4/v5.channel.k8s.io: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize, 255 close).
 */
export type ChannelData = (channel: number, data: Buffer) => void;

export class FrameReader {
  private readonly header: number[] = [];
  private remaining = 0;
  private mask: number[] | undefined;
  private maskOffset = 0;
  private control = false;
  /** The channel of the message being read; undefined until its first payload byte. */
  private channel: number | undefined;

  constructor(private readonly onData: ChannelData) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        this.payload(chunk.subarray(at, at + n));
        this.remaining -= n;
        at += n;
        continue;
      }
      this.header.push(chunk[at++]!);
      if (this.header.length === this.headerLength()) this.startFrame();
    }
  }

  /** How long the header being read is, from what is known of it so far. */
  private headerLength(): number {
    if (this.header.length < 2) return 2;
    const len7 = this.header[1]! & 0x7f;
    const masked = (this.header[1]! & 0x80) !== 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  private startFrame(): void {
    const h = Buffer.from(this.header);
    this.header.length = 0;
    const opcode = h[0]! & 0x0f;
    const len7 = h[1]! & 0x7f;
    let off = 2;
    let len = len7;
    if (len7 === 126) {
      len = h.readUInt16BE(2);
      off = 4;
    } else if (len7 === 127) {
      len = Number(h.readBigUInt64BE(2));
      off = 10;
    }
    this.mask = (h[1]! & 0x80) !== 0 ? [...h.subarray(off, off + 4)] : undefined;
    this.maskOffset = 0;
    this.control = opcode >= 8;
    if (!this.control && opcode !== 0) this.channel = undefined; // a new data message
    this.remaining = len;
  }

  private payload(bytes: Buffer): void {
    if (this.control || bytes.length === 0) return;
    let data = bytes;
    if (this.mask) {
      data = Buffer.allocUnsafe(bytes.length);
      for (let i = 0; i < bytes.length; i++) data[i] = bytes[i]! ^ this.mask[(this.maskOffset + i) & 3]!;
      this.maskOffset += bytes.length;
    }
    if (this.channel === undefined) {
      this.channel = data[0]!;
      data = data.subarray(1);
    }
    if (data.length) this.onData(this.channel, data);
  }
}

import type { IncomingMessage } from 'node:http';
import { StatusError } from '../kube/status.js';

/**
 * Reads a whole request body, refusing it past `max` bytes. Mutations are decided on
 * their full body, so they are buffered; reads are never buffered.
 */
export function readBody(req: IncomingMessage, max: number, timeoutMs = 30_000): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    return Promise.reject(tooLarge(max));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge(max));
        return;
      }
      chunks.push(c);
    };
    // a client that trickles its body must not pin a connection (and memory) forever
    const timer = setTimeout(() => {
      req.off('data', onData);
      reject(new StatusError(408, 'Timeout', `request body not received within ${timeoutMs / 1000}s`));
      req.destroy();
    }, timeoutMs);
    req.on('data', onData);
    req.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.once('close', () => clearTimeout(timer));
    req.once('error', reject);
    req.once('aborted', () => reject(new StatusError(400, 'BadRequest', 'client aborted the request body')));
  });
}

const tooLarge = (max: number) =>
  new StatusError(413, 'RequestEntityTooLarge', `request body larger than kubegate's limit of ${max} bytes`);

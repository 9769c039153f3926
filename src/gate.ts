import type { IncomingMessage } from 'node:http';
import type { KubeRequest } from './kube/request.js';
import { readBody } from './proxy/body.js';
import type { Admission, Gate } from './server.js';

export interface GateOptions {
  maxBodyBytes: number;
}

/** Foundation gate: buffers mutation bodies (so one parse decides and forwards) and lets everything pass. */
export function createGate(opts: GateOptions): Gate {
  return {
    async admit(req: IncomingMessage, kr: KubeRequest): Promise<Admission> {
      if (!kr.mutating || kr.upgrade) return {};
      return { body: await readBody(req, opts.maxBodyBytes) };
    },
  };
}

import { readFileSync } from 'node:fs';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { createGate } from './gate.js';
import { createForwarder } from './proxy/forward.js';
import { createServer } from './server.js';
import { loadUpstream } from './upstream.js';

export interface Running {
  server: https.Server;
  port: number;
  close(): Promise<void>;
}

/** Starts kubegate from a validated config: the `kubegate serve` main job. */
export async function serve(config: Config, logger: Logger = pino({ name: 'kubegate' })): Promise<Running> {
  const upstream = loadUpstream({
    ...(config.upstream.kubeconfig ? { kubeconfig: config.upstream.kubeconfig } : {}),
    ...(config.upstream.context ? { context: config.upstream.context } : {}),
    ...(config.upstream.url ? { url: config.upstream.url } : {}),
    ...(config.upstream.ca ? { caFile: config.upstream.ca } : {}),
  });
  const forwarder = createForwarder(upstream, (err, req) =>
    logger.warn({ err: err.message, method: req.method, url: req.url }, 'upstream error'),
  );
  const gate = createGate({ maxBodyBytes: config.limits.max_body_bytes });
  const server = createServer({
    tls: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
    forwarder,
    gate,
    logger,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ address: config.listen.address, port, upstream: upstream.url.origin }, 'kubegate listening');
  return {
    server,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      upstream.agent.destroy();
    },
  };
}

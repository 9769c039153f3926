// notify: in kubegate.yaml → audit sinks. Notifications are the audit log's webhook shipping with
// a per-record format: same persisted cursor, retries and catch-up from the file, beside the
// request path. Tuned to be quick: a live receiver hears of a hold within a second, and one that
// comes back after an outage is caught up within a couple of seconds of the next retry.
import { readFileSync } from 'node:fs';
import type { RecordFormat, WebhookSinkConfig } from '../audit/types.js';
import { ConfigError } from '../config.js';
import { SIGNATURE_HEADER, signatureHeader } from './sign.js';
import { slackMessage } from './slack.js';
import { webhookEvent } from './webhook-event.js';

export interface NotifyConfig {
  slack_webhook_url?: string | undefined;
  webhook_url?: string | undefined;
  webhook_secret_file?: string | undefined;
}

/** Quick delivery, a short backoff cap, and only new events on a first start. */
const TIMING = {
  batchSize: 100,
  flushMs: 100,
  minBackoffMs: 250,
  maxBackoffMs: 2000,
  timeoutMs: 5000,
  fromEnd: true,
} as const;

/** Sink names cannot clash with audit.sinks names ([a-z0-9-]+): they contain a dot. */
export const NOTIFY_SINK_NAMES = { webhook: 'notify.webhook', slack: 'notify.slack' } as const;

/** `consoleUrl`: the approval console's origin; notifications then link to the request's page. */
export function notifySinks(cfg: NotifyConfig | undefined, consoleUrl?: string): WebhookSinkConfig[] {
  const sinks: WebhookSinkConfig[] = [];
  if (cfg?.webhook_url) {
    const secret = readSecret(cfg.webhook_secret_file);
    sinks.push(sink(NOTIFY_SINK_NAMES.webhook, cfg.webhook_url, signedEvents(secret, consoleUrl)));
  }
  if (cfg?.slack_webhook_url) {
    sinks.push(sink(NOTIFY_SINK_NAMES.slack, cfg.slack_webhook_url, slackMessages(consoleUrl)));
  }
  return sinks;
}

function sink(name: string, url: string, format: RecordFormat): WebhookSinkConfig {
  // The label keeps the URL (for Slack, itself the credential) out of logs and status.
  return { type: 'webhook', name, url, label: name, format, ...TIMING };
}

const slackMessages = (consoleUrl?: string): RecordFormat => ({
  body(r) {
    const m = slackMessage(r, consoleUrl);
    return m && JSON.stringify(m);
  },
});

function signedEvents(secret: string, consoleUrl?: string): RecordFormat {
  return {
    body(r) {
      const e = webhookEvent(r, consoleUrl);
      return e && JSON.stringify(e);
    },
    // Signed when sent (not when the record was written): a late delivery is not a stale one.
    headers: (body) => ({ [SIGNATURE_HEADER]: signatureHeader(secret, body) }),
  };
}

/** The HMAC secret: the file's content without surrounding whitespace. */
function readSecret(file: string | undefined): string {
  if (!file) throw new ConfigError('notify.webhook_secret_file: required with notify.webhook_url');
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`notify.webhook_secret_file: cannot read ${file}: ${(err as Error).message}`);
  }
  if (secret.length < 16) {
    throw new ConfigError(`notify.webhook_secret_file: ${file} holds less than 16 characters`);
  }
  return secret;
}

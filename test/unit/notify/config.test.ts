// notify: in kubegate.yaml: strict like every section, errors name the key.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { notifySinks } from '../../../src/notify/sinks.js';

const base = {
  tls: { cert: 'c', key: 'k' },
  policy: { bundle: 'p' },
  approvers: { jwks: 'j' },
  audit: { path: 'a' },
};
const parse = (notify: unknown) => parseConfig({ ...base, notify }, '/etc/kubegate');

describe('notify config', () => {
  it('takes both sinks; the secret file resolves against the config dir', () => {
    const c = parse({
      slack_webhook_url: 'https://hooks.slack.com/services/T/B/x',
      webhook_url: 'http://127.0.0.1:9000/hook',
      webhook_secret_file: 'notify.secret',
    });
    expect(c.notify).toEqual({
      slack_webhook_url: 'https://hooks.slack.com/services/T/B/x',
      webhook_url: 'http://127.0.0.1:9000/hook',
      webhook_secret_file: '/etc/kubegate/notify.secret',
    });
    expect(parseConfig(base).notify).toBeUndefined();
  });

  it.each([
    [{ webhook_url: 'http://x/y' }, /notify\.webhook_secret_file: required with webhook_url/],
    [{ slack_webhook_url: 'ftp://x/y' }, /notify\.slack_webhook_url: must be an http\(s\) URL/],
    [{ webhook_url: 'not a url', webhook_secret_file: 's' }, /notify\.webhook_url:/],
    [{ slack_url: 'https://x' }, /notify: unknown key\(s\) slack_url/],
  ])('refuses %j naming the key', (notify, message) => {
    expect(() => parse(notify)).toThrow(message);
  });

  it('reads the secret at start-up and refuses a missing or short one, naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubegate-notify-'));
    const short = join(dir, 'short');
    await writeFile(short, 'abc\n');
    const url = 'http://127.0.0.1:9/hook';
    expect(() => notifySinks({ webhook_url: url, webhook_secret_file: short })).toThrow(
      /notify\.webhook_secret_file: .* less than 16/,
    );
    expect(() => notifySinks({ webhook_url: url, webhook_secret_file: join(dir, 'none') })).toThrow(
      /notify\.webhook_secret_file: cannot read/,
    );
    const good = join(dir, 'good');
    await writeFile(good, `${'s'.repeat(32)}\n`);
    const sinks = notifySinks({ webhook_url: url, webhook_secret_file: good, slack_webhook_url: url });
    expect(sinks.map((s) => s.name)).toEqual(['notify.webhook', 'notify.slack']);
    // The URL (a Slack webhook URL is a credential) never names the sink in logs.
    expect(sinks.every((s) => s.label === s.name)).toBe(true);
  });
});

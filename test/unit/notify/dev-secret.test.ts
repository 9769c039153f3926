// `kubegate dev --set notify.webhook_url=URL`: dev makes the signing secret the config requires.
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureNotifySecret } from '../../../src/dev/dev.js';

describe('kubegate dev notify secret', () => {
  it('makes one (0600) in the dev dir when webhook_url has no secret file, and keeps it across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubegate-dev-'));
    await mkdir(join(dir, 'keys'));
    const config: Record<string, unknown> = { notify: { webhook_url: 'http://127.0.0.1:9000/hook' } };
    const file = ensureNotifySecret(dir, config);
    expect(file).toBe(join(dir, 'keys', 'notify-webhook.secret'));
    expect(config.notify).toMatchObject({ webhook_secret_file: file });
    const secret = await readFile(file!, 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await stat(file!)).mode & 0o777).toBe(0o600);
    const again: Record<string, unknown> = { notify: { webhook_url: 'http://127.0.0.1:9000/hook' } };
    expect(ensureNotifySecret(dir, again)).toBe(file);
    expect(await readFile(file!, 'utf8')).toBe(secret);
  });

  it('leaves a given secret file, and a config without webhook_url, alone', () => {
    const given = { notify: { webhook_url: 'http://x/y', webhook_secret_file: '/etc/s' } };
    expect(ensureNotifySecret('/nonexistent', given)).toBeUndefined();
    expect(given.notify.webhook_secret_file).toBe('/etc/s');
    expect(
      ensureNotifySecret('/nonexistent', { notify: { slack_webhook_url: 'http://x/y' } }),
    ).toBeUndefined();
    expect(ensureNotifySecret('/nonexistent', {})).toBeUndefined();
  });
});

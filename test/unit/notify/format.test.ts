// What a notification says: the Slack message names the request and the approve-cli commands,
// the webhook event carries the allow-listed fields, and neither carries anything else.
import { describe, expect, it } from 'vitest';
import { mrkdwnSafe, slackMessage } from '../../../src/notify/slack.js';
import { webhookEvent } from '../../../src/notify/webhook-event.js';
import { LEAKS, record } from './fixtures.js';

describe('Slack message', () => {
  it('names the request, risk, requester, action, target, reasons and the approve-cli commands', () => {
    const m = slackMessage(record({ event: 'held' }))!;
    const blocks = JSON.stringify(m.blocks);
    for (const s of [
      'req-20261201-abcdef0123',
      'MEDIUM',
      'agent',
      'patch v1 configmaps team-a/settings',
      'team-a/configmaps/settings',
      'change to ConfigMap team-a/settings',
      'approve-cli show req-20261201-abcdef0123',
      'approve-cli approve req-20261201-abcdef0123',
    ]) {
      expect(blocks).toContain(s);
      expect(m.text).toContain(s);
    }
    expect(m.blocks[0]).toMatchObject({ type: 'header' });
    expect(blocks).not.toContain('--override');
    // No interactive elements: approvals are signed by approve-cli, never a click in chat.
    expect(blocks).not.toMatch(/"(button|actions|accessory)"/);
  });

  it('a CRITICAL request waiting for an override gets the override command', () => {
    const m = slackMessage(record({ event: 'blocked', risk: 'CRITICAL', status: 'pending' }))!;
    expect(m.text).toContain('approve-cli approve req-20261201-abcdef0123 --override --reason TEXT');
    expect(JSON.stringify(m.blocks)).toContain('--override --reason TEXT');
    expect(m.text).toMatch(/2 different approvers/);
  });

  it('carries no body, policy input, old object, message or hash chain fields', () => {
    const m = slackMessage(record({ event: 'held' }))!;
    const json = JSON.stringify(m);
    for (const leak of LEAKS) expect(json).not.toContain(leak);
  });

  it('shows request-supplied text as text: no mentions, links or markup', () => {
    const m = slackMessage(record({ event: 'held', user: '<!channel> @here', reasons: ['<http://x|y>'] }))!;
    const json = JSON.stringify(m);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<http://x');
    expect(json).not.toMatch(/(^|\s)@here/);
    expect(mrkdwnSafe('a & b <c> alice@example.com @all')).toBe(
      'a &amp; b &lt;c&gt; alice@example.com @\u200ball',
    );
  });

  it('keeps within Slack block limits for long values', () => {
    const m = slackMessage(record({ event: 'held', reasons: Array(200).fill('x'.repeat(100)) }))!;
    expect(m.text.length).toBeLessThan(8000);
    expect(m.text).toContain('(190 more reasons)');
    expect(m.text).toContain('approve-cli approve req-20261201-abcdef0123');
    for (const b of m.blocks) {
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.type === 'section' && b.fields)
        for (const f of b.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
  });
});

describe('webhook event', () => {
  it('has exactly the allow-listed fields, approver(s) where present', () => {
    const e = webhookEvent(
      record({ event: 'approved', status: 'approved', approver: 'alice', approvers: ['alice'] }),
    );
    expect(e).toEqual({
      event: 'approved',
      request_id: 'req-20261201-abcdef0123',
      risk: 'MEDIUM',
      user: 'agent',
      action: 'patch v1 configmaps team-a/settings',
      resource: 'team-a/configmaps/settings',
      reasons: ['change to ConfigMap team-a/settings'],
      approver: 'alice',
      approvers: ['alice'],
      timestamp: '2026-12-01T10:00:00.000Z',
      seq: 7,
      replica: 'kubegate-0',
    });
    const json = JSON.stringify(e);
    for (const leak of LEAKS) expect(json).not.toContain(leak);
  });

  it('marks an executed dry run, and ignores fields of the wrong type', () => {
    const e = webhookEvent(record({ event: 'executed', dry_run: true, risk: 42 as unknown as string }))!;
    expect(e.dry_run).toBe(true);
    expect(e).not.toHaveProperty('risk');
  });
});

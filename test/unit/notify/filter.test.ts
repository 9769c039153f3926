// Which events go where: Slack only when someone must approve; the webhook for every outcome.
import { describe, expect, it } from 'vitest';
import { isWebhookEvent, waitsForApproval } from '../../../src/notify/events.js';
import { slackMessage } from '../../../src/notify/slack.js';
import { webhookEvent } from '../../../src/notify/webhook-event.js';
import { record } from './fixtures.js';

const cases: Array<[string, Record<string, unknown>, { slack: boolean; webhook: boolean }]> = [
  ['held', {}, { slack: true, webhook: true }],
  ['blocked', { status: 'pending', risk: 'CRITICAL' }, { slack: true, webhook: true }],
  ['blocked', { status: 'refused' }, { slack: false, webhook: false }],
  ['approved', {}, { slack: false, webhook: true }],
  ['rejected', {}, { slack: false, webhook: true }],
  ['cancelled', {}, { slack: false, webhook: true }],
  ['executed', {}, { slack: false, webhook: true }],
  ['failed', {}, { slack: false, webhook: true }],
  ['rolled_back', {}, { slack: false, webhook: true }],
  ['forwarded', {}, { slack: false, webhook: false }],
  ['read', {}, { slack: false, webhook: false }],
  ['revoked', {}, { slack: false, webhook: false }],
  ['checkpoint', { request_id: undefined }, { slack: false, webhook: false }],
  ['recovered', { request_id: undefined }, { slack: false, webhook: false }],
  // kubegate's own preview of a held change (approve-cli show) is on record, not news
  ['executed', { origin: 'preview', preview_of: 'req-x' }, { slack: false, webhook: false }],
  // a rollback waiting for its approver is asked for like any request
  ['held', { origin: 'rollback', rollback_of: 'req-x' }, { slack: true, webhook: true }],
];

describe('notification filter', () => {
  it.each(cases)('%s %j', (event, extra, want) => {
    const r = record({ event, ...extra });
    expect(waitsForApproval(r)).toBe(want.slack);
    expect(isWebhookEvent(r)).toBe(want.webhook);
    expect(slackMessage(r) !== undefined).toBe(want.slack);
    expect(webhookEvent(r) !== undefined).toBe(want.webhook);
  });
});

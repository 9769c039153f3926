// A Slack-compatible incoming-webhook message (Slack, Mattermost, Rocket.Chat) for a request
// that waits for an approver. Block Kit for Slack, and a complete plain `text` for clients that
// show only that. Deliberately no buttons: an approval is a token signed with the approver's own
// key by approve-cli; a button in chat would let anyone in the channel approve without one.
import type { AuditRecord } from '../audit/types.js';
import { requestPage, text, texts, waitsForApproval } from './events.js';

interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}

type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] };

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** What the message says, taken from the record's allow-listed fields only. */
interface Held {
  id: string;
  risk: string;
  requester: string;
  action: string;
  target: string;
  reasons: string[];
  commands: string[];
  seq: number;
  timestamp: string;
}

function held(r: AuditRecord, id: string, consoleUrl?: string): Held {
  const risk = text(r, 'risk') ?? 'UNKNOWN';
  const approve = `approve-cli approve ${id}${risk === 'CRITICAL' ? ' --override --reason TEXT' : ''}`;
  return {
    id,
    risk,
    requester: text(r, 'user') ?? 'unknown',
    action: text(r, 'action') ?? '',
    target: text(r, 'resource') ?? '',
    reasons: texts(r, 'reasons') ?? [],
    commands: [
      `approve-cli show ${id}`,
      approve,
      ...(consoleUrl ? [`or in the console: ${requestPage(consoleUrl, id)}`] : []),
    ],
    seq: r.seq,
    timestamp: r.timestamp,
  };
}

/** The message for a record, or undefined when nobody needs to be asked. */
export function slackMessage(r: AuditRecord, consoleUrl?: string): SlackMessage | undefined {
  const id = text(r, 'request_id');
  if (!waitsForApproval(r) || id === undefined) return undefined;
  const h = held(r, id, consoleUrl);
  return { text: plainText(h), blocks: blocks(h) };
}

function headline(h: Held): string {
  const who = h.risk === 'CRITICAL' ? ' (override and 2 different approvers)' : '';
  return `${h.risk} change waiting for approval${who}`;
}

/** The plain text stays short: clients that show only it (and notifications) get the gist. */
const MAX_REASON_LINES = 10;

function plainText(h: Held): string {
  return [
    `kubegate: ${headline(h)}: ${h.id}`,
    `requester: ${h.requester}`,
    `action: ${h.action}`,
    `target: ${h.target}`,
    ...h.reasons.slice(0, MAX_REASON_LINES).map((x) => `reason: ${x}`),
    ...(h.reasons.length > MAX_REASON_LINES ? [`(${h.reasons.length - MAX_REASON_LINES} more reasons)`] : []),
    ...h.commands,
  ]
    .map((line) => clip(mrkdwnSafe(line), 500))
    .join('\n');
}

function blocks(h: Held): Block[] {
  const field = (name: string, value: string): TextObject => ({
    type: 'mrkdwn',
    text: clip(`*${name}*\n${mrkdwnSafe(value)}`, 1900),
  });
  const reasons = h.reasons.map((x) => `• ${mrkdwnSafe(x)}`).join('\n') || '(none given)';
  return [
    { type: 'header', text: { type: 'plain_text', text: clip(headline(h), 150) } },
    {
      type: 'section',
      fields: [
        field('Request', h.id),
        field('Risk', h.risk),
        field('Requester', h.requester),
        field('Target', h.target),
        field('Action', h.action),
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*Reasons*\n${reasons}`, 2900) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Review and approve with your own key:*\n\`\`\`${h.commands.map(mrkdwnSafe).join('\n')}\`\`\``,
      },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `audit seq ${h.seq} · ${h.timestamp}` }] },
  ];
}

/**
 * Values come from requests (names, usernames, reasons naming objects): as plain text, never as
 * markup, links or mentions (<!channel>, @here).
 */
export function mrkdwnSafe(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/(^|\s)@(?=\w)/g, '$1@\u200b');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

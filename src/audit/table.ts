// `-o table` for `kubegate audit export|tail`: one fixed-width line per record, for people.
import { parseRecord } from './check.js';

export type AuditOutput = 'json' | 'table';

const COLUMNS = [
  ['TIME', 20],
  ['SEQ', 6],
  ['EVENT', 10],
  ['CLUSTER', 10],
  ['RISK', 8],
  ['USER', 14],
  ['REQUEST', 24],
  ['ACTION', 28],
  ['RESOURCE', 32],
] as const;

function cell(v: unknown, width: number, last: boolean): string {
  const s = v === undefined || v === null ? '-' : String(v);
  if (last) return s;
  return s.length >= width ? `${s.slice(0, width - 2)}… ` : s.padEnd(width);
}

export const TABLE_HEADER = COLUMNS.map(([h, w], i) => cell(h, w, i === COLUMNS.length - 1)).join('');

/** A record as a table row; approvers and the outcome's status follow the resource. */
export function tableRow(line: string): string {
  const r = parseRecord(line) as Record<string, unknown> | undefined;
  if (!r) return `(not a record) ${line.slice(0, 80)}`;
  const who = r.approvers ?? r.approver;
  const extra = [
    who ? `by ${Array.isArray(who) ? who.join(',') : who}` : '',
    r.status ? `status ${r.status}` : '',
    r.would_hold ? `would hold (${(r.audit_rules as string[] | undefined)?.join(',')})` : '',
  ].filter(Boolean);
  const values = [
    String(r.timestamp ?? '').replace(/\.\d+Z$/, 'Z'),
    r.seq,
    r.event,
    r.cluster,
    r.risk,
    r.user,
    r.request_id,
    r.action,
    `${r.resource ?? '-'}${extra.length ? `  ${extra.join('; ')}` : ''}`,
  ];
  return COLUMNS.map(([, w], i) => cell(values[i], w, i === COLUMNS.length - 1)).join('');
}

export function parseOutput(v: string | undefined): AuditOutput {
  if (v === undefined || v === 'json') return 'json';
  if (v === 'table') return 'table';
  throw new Error(`-o: expected one of json, table (got ${JSON.stringify(v)})`);
}

// A record's line and hash from one encoding of each field: the line lists the fields in the
// documented order, the hash covers the same members sorted (RFC 8785), so no value is
// serialised twice and the two cannot disagree.
import { hashCanonical } from './chain.js';
import { type EncodedField, quote } from './encode.js';

// Field order of a line; extras go after these, then prev and hash. (The hash does not depend on
// it: it is over canonical JSON.)
const KNOWN_FIELDS = [
  'event',
  'request_id',
  'cluster',
  'plan_id',
  'action',
  'resource',
  'user',
  'risk',
  'reasons',
  'status',
  'approver',
  'approvers',
  'duration_seconds',
  'policy',
] as const;
/** Fields the log sets itself; a caller may not pass seq, timestamp, prev or hash. */
export const ASSIGNED_FIELDS = ['seq', 'timestamp', 'prev', 'hash'] as const;
const ORDERED = new Set<string>([...KNOWN_FIELDS, ...ASSIGNED_FIELDS, 'replica']);

export interface Assigned {
  seq: number;
  timestamp: string;
  /** The replica's name as JSON, when the log has one (it wins over a caller's `replica`). */
  replicaJson: string | undefined;
  prev: string;
}

export interface SealedLine {
  hash: string;
  /** The JSONL line, ending with "\n". */
  line: string;
}

type Member = readonly [key: string, text: string];

export function sealLine(fields: readonly EncodedField[], a: Assigned): SealedLine {
  const byKey = new Map(fields);
  const members: Member[] = [member('seq', String(a.seq)), member('timestamp', quote(a.timestamp))];
  for (const k of KNOWN_FIELDS) {
    const json = byKey.get(k);
    if (json !== undefined) members.push(member(k, json));
  }
  const replica = a.replicaJson ?? byKey.get('replica');
  if (replica !== undefined) members.push(member('replica', replica));
  for (const [k, json] of fields) if (!ORDERED.has(k)) members.push(member(k, json));
  members.push(member('prev', quote(a.prev)));
  const sorted = [...members].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const hash = hashCanonical(a.prev, `{${sorted.map((m) => m[1]).join(',')}}`);
  return { hash, line: `{${members.map((m) => m[1]).join(',')},"hash":"${hash}"}\n` };
}

// Field names repeat on every record: quote each once (a bounded set; others are quoted each time).
const quoted = new Map<string, string>();

function member(k: string, json: string): Member {
  let q = quoted.get(k);
  if (q === undefined) {
    q = quote(k);
    if (quoted.size < 256) quoted.set(k, q);
  }
  return [k, `${q}:${json}`];
}

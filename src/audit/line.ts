// A record's line and hash from one encoding of each field: the line lists the fields in the
// documented order, the hash covers the same members sorted (RFC 8785), so no value is
// serialised twice and the two cannot disagree.
import { memberHead, sortInPlace } from '../wire/canonical.js';
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
const ASSIGNED = new Set<string>(ASSIGNED_FIELDS);

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

interface Member {
  key: string;
  /** `"key":json` */
  text: string;
  /** Its place on the line. */
  rank: number;
}

// A line's order: seq, timestamp, the known fields in their order, replica, other fields as given, prev.
const RANK = new Map<string, number>(KNOWN_FIELDS.map((k, i) => [k, i]));
const REPLICA_RANK = KNOWN_FIELDS.length;
const OTHER_RANK = REPLICA_RANK + 1;

export function sealLine(fields: readonly EncodedField[], a: Assigned): SealedLine {
  const members: Member[] = [member('seq', String(a.seq), -2), member('timestamp', quote(a.timestamp), -1)];
  let replica = a.replicaJson;
  for (let i = 0; i < fields.length; i++) {
    const [k, json] = fields[i] as EncodedField;
    if (k === 'replica') replica ??= json;
    else if (!ASSIGNED.has(k)) members.push(member(k, json, RANK.get(k) ?? OTHER_RANK + i));
  }
  if (replica !== undefined) members.push(member('replica', replica, REPLICA_RANK));
  members.push(member('prev', quote(a.prev), Number.POSITIVE_INFINITY));
  const hash = hashCanonical(a.prev, joined(sortInPlace(members.slice(), byKey), '}'));
  return { hash, line: joined(sortInPlace(members, byRank), `,"hash":"${hash}"}\n`) };
}

const byKey = (x: Member, y: Member): boolean => x.key > y.key;
const byRank = (x: Member, y: Member): boolean => x.rank > y.rank;

/** `{`, the members' texts between commas, then `end`. */
function joined(members: readonly Member[], end: string): string {
  let out = '{';
  for (let i = 0; i < members.length; i++) {
    if (i > 0) out += ',';
    out += (members[i] as Member).text;
  }
  return out + end;
}

function member(k: string, json: string, rank: number): Member {
  return { key: k, text: memberHead(k).first + json, rank };
}

// What a record keeps of a body: the object without its server bookkeeping. managedFields can be
// larger than the object itself and says nothing an auditor needs (who changed what is on record).

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function withoutManaged(o: Obj): Obj {
  if (!isObj(o.metadata) || !('managedFields' in o.metadata)) return o;
  const { managedFields: _m, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** The body with `metadata.managedFields` left out (of the object, and of each item of a list). */
export function slimBody(body: unknown): unknown {
  if (!isObj(body)) return body;
  const top = withoutManaged(body);
  return Array.isArray(top.items)
    ? { ...top, items: top.items.map((i) => (isObj(i) ? withoutManaged(i) : i)) }
    : top;
}

/**
 * One shape for who approved: every record that names approvers has `approvers` (a list);
 * `approver` stays on single-approver events (approved, rejected, revoked) for existing readers.
 */
export function slimRecord(extra: Obj): Obj {
  const out: Obj = { ...extra };
  if ('body' in out) out.body = slimBody(out.body);
  if (typeof out.approver === 'string' && !Array.isArray(out.approvers)) out.approvers = [out.approver];
  return out;
}

import { movedFields } from '../approvecli/moved.js';
import type { PendingView } from '../approvecli/types.js';
import type { ActionAsk } from './claims.js';
import { objectDigest } from './object-digest.js';

/** At most this many moved fields are named in the refusal (the page shows them all once reloaded). */
const MAX_FIELDS = 10;

/**
 * Why the page the approver saw is not the request as it is now, or undefined when it is: the
 * approval is bound to the live object's resourceVersion, so approving a page drawn before the
 * object moved would sign a version the approver never looked at (and could undo another change).
 * A move of status and version counters alone (objectDigest) changes nothing the page showed: the
 * approval then binds to the current version.
 */
export function staleShown(view: PendingView, ask: ActionAsk): string | undefined {
  const now = view.detail.resourceVersion ?? '';
  const shown = typeof ask.resourceVersion === 'string' ? ask.resourceVersion : '';
  if (shown !== now && !onlyServerMoved(view, ask))
    return `the object changed since you opened the page (resourceVersion ${shown || '(none)'} -> ${now || '(none)'}${movedSummary(view)}): reload and look again`;
  if (ask.risk !== undefined && ask.risk !== view.risk)
    return `its risk is ${view.risk} now, your page showed ${String(ask.risk)}: reload and look again`;
  return undefined;
}

/** The object moved, but only in what the apiserver writes itself: the page still shows it as it is. */
function onlyServerMoved(view: PendingView, ask: ActionAsk): boolean {
  const digest = objectDigest(view.detail.oldObject);
  return digest !== undefined && digest === ask.objectDigest;
}

/** The fields someone changed since the request was held, as `show` names them. */
function movedSummary(view: PendingView): string {
  if (!view.moved) return '';
  const paths = movedFields(view.moved, view.detail.oldObject).map((c) => c.path);
  if (!paths.length) return '';
  const more = paths.length > MAX_FIELDS ? `, ... ${paths.length - MAX_FIELDS} more` : '';
  return `; changed since it was held: ${paths.slice(0, MAX_FIELDS).join(', ')}${more}`;
}

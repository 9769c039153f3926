import { it } from 'vitest';
import * as h from './helpers.js';

it('probe', async () => {
  const n = await h.ns('probe');
  await h.pod(n, 'p1'); await h.pod(n, 'p2'); await h.pod(n, 'p3');
  // protobuf binding
  const binding = h.pbEnvelope('v1', 'Binding', Buffer.concat([
    h.pbField(1, h.pbMeta('p1', n)),
    h.pbField(2, Buffer.concat([h.pbField(1, 'Node'), h.pbField(3, 'node-x')])),
  ]));
  let r = await h.gate(`/api/v1/namespaces/${n}/pods/p1/binding`, { method: 'POST', body: binding, contentType: h.PROTOBUF, timeoutMs: 2000 });
  console.log('binding', r.status, r.body.slice(0, 300));
  console.log('p1 nodeName', (await h.live(`/api/v1/namespaces/${n}/pods/p1`)).spec.nodeName);
  // protobuf eviction
  const ev = h.pbEnvelope('policy/v1', 'Eviction', h.pbField(1, h.pbMeta('p2', n)));
  r = await h.gate(`/api/v1/namespaces/${n}/pods/p2/eviction`, { method: 'POST', body: ev, contentType: h.PROTOBUF, timeoutMs: 2000 });
  console.log('eviction', r.status, r.body.slice(0, 300));
  console.log('p2 exists', !!(await h.live(`/api/v1/namespaces/${n}/pods/p2`)));
  // protobuf token
  const tr = h.pbEnvelope('authentication.k8s.io/v1', 'TokenRequest', Buffer.concat([h.pbField(1, h.pbMeta('default', n)), h.pbField(2, h.pbField(1, 'x'))]));
  r = await h.gate(`/api/v1/namespaces/${n}/serviceaccounts/default/token`, { method: 'POST', body: tr, contentType: h.PROTOBUF, timeoutMs: 2000 });
  console.log('token', r.status, r.body.slice(0, 300));
  const recs = h.auditRecords().filter((x) => String(x.resource).includes(n));
  console.log(JSON.stringify(recs.map((x) => [x.event, x.action, x.risk, JSON.stringify(x.body ?? '').slice(0, 200)])));
  // bindings top-level dryRun json
  r = await h.gate(`/api/v1/namespaces/${n}/bindings?dryRun=All`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p3' }, target: { kind: 'Node', name: 'node-y' } } });
  console.log('bindings dryRun', r.status, r.body.slice(0, 200));
  console.log('p3 nodeName', (await h.live(`/api/v1/namespaces/${n}/pods/p3`)).spec.nodeName);
  // yaml 1.1 vs 1.2
  const y = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: y1\nspec:\n  <<: {hostNetwork: true}\n  containers:\n  - name: c\n    image: busybox\n    securityContext:\n      privileged: yes\n`;
  r = await h.gate(`/api/v1/namespaces/${n}/pods?dryRun=All`, { method: 'POST', body: y, contentType: 'application/yaml' });
  console.log('yaml dry', r.status, JSON.stringify(r.json?.spec?.hostNetwork), JSON.stringify(r.json?.spec?.containers?.[0]?.securityContext), r.body.slice(0,300));
  const yrec = h.auditRecords().filter((x) => String(x.resource).includes(`${n}/pods`) && x.event === 'forwarded').pop();
  console.log('yaml policy saw', yrec?.risk, JSON.stringify(yrec?.reasons), JSON.stringify(yrec?.body));
});

import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../e2e/helpers.js';
import {
  configMap,
  deployment,
  forwardedSince,
  gate,
  HELD_MS,
  lastSeq,
  live,
  ns,
  pod,
  pwnedPatch,
  rv,
  signToken,
  since,
  sleep,
  stoppedSince,
  waitPending,
} from './helpers.js';

/**
 * What is decided is what is forwarded: no path, query, body or content-type trick makes the
 * request the policy (and the approver) saw differ from the one the apiserver runs.
 */
describe('decided = forwarded', () => {
  let n: string;
  const cm = () => `/api/v1/namespaces/${n}/configmaps/victim`;
  const mergePatch = pwnedPatch;

  beforeAll(async () => {
    n = await ns('dec');
    await configMap(n, 'victim');
    await configMap(n, 'victim2');
    await deployment(n, 'web', 1);
  });

  describe('ambiguous paths are refused with 400 before anything else', () => {
    const paths = () => [
      `/api/v1/namespaces/${n}/configmaps/../configmaps/victim`,
      `/api/v1/namespaces/${n}/./configmaps/victim`,
      `/api/v1/namespaces/${n}//configmaps/victim`,
      `//api/v1/namespaces/${n}/configmaps/victim`,
      `/api/v1/namespaces/${n}/configmaps%2Fvictim`,
      `/api/v1/namespaces/${n}/configmaps/victim%2F..%2Fvictim2`,
      `/api/v1/namespaces/${n}/configmaps/%252e%252e/victim`,
      `/api/v1/namespaces/${n}/configmaps/victim%00`,
      `/api/v1/namespaces/${n}/configmaps/victim.`,
      `/api/v1/namespaces/${n}/configmaps/victim%5C..`,
      `/api/v1/namespaces/${n}/ConfigMaps/victim`,
      `/api/V1/namespaces/${n}/configmaps/victim`,
      `/api/v1/namespaces/${n}/configmaps/victim/Status`,
      `/api/v1/namespaces/${n}/configmaps/victim/status/extra`,
      `/api/v1/namespaces/${n}/configmaps/%ZZ`,
      `/api/v1/proxy/namespaces/${n}/pods/p`,
    ];
    it('PATCH and DELETE on each: 400 Status (or 404 upstream), object unchanged, nothing forwarded', async () => {
      const before = await rv(cm());
      const seq = lastSeq();
      for (const p of paths()) {
        for (const method of ['PATCH', 'DELETE']) {
          const r = await gate(p, { ...mergePatch, method, timeoutMs: HELD_MS });
          expect(r.timedOut, `${method} ${p} was held: it parsed as a real target`).toBe(false);
          expect(r.status, `${method} ${p}`).toBe(400);
          expect(r.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
        }
      }
      expect(await rv(cm())).toBe(before);
      expect((await live(`/api/v1/namespaces/${n}/configmaps/victim2`)).data).toEqual({ a: '1' });
      expect(forwardedSince(seq, n)).toEqual([]);
    });
  });

  describe('dryRun tricks', () => {
    const variants = [
      'dryRun=All&dryRun=',
      'dryRun=&dryRun=All',
      'dryRun=All&dryRun=None',
      'dryRun=all',
      'dryRun=All,None',
      'dryRun=All%00',
      'dryRun=All+',
      'dryRun',
      'dryRun=',
    ];
    for (const q of variants) {
      it(`?${q} is refused (400) or treated as a real change (held) — never run unapproved`, async () => {
        const before = await rv(cm());
        const seq = lastSeq();
        const r = await gate(`${cm()}?${q}`, { ...mergePatch, timeoutMs: HELD_MS });
        expect(r.timedOut || [400, 403].includes(r.status)).toBe(true);
        await sleep(200);
        expect(await rv(cm())).toBe(before);
        expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
      });
    }

    it('query parameters repeated with different values are refused with 400', async () => {
      const before = await rv(cm());
      for (const q of [
        'fieldManager=a&fieldManager=b',
        'dryRun=All&fieldManager=a&fieldManager=b',
        'watch=1&watch=0',
      ]) {
        const r = await gate(`${cm()}?${q}`, { ...mergePatch, timeoutMs: HELD_MS });
        expect(r.status, q).toBe(400);
        expect(r.json.message).toMatch(/repeated|watch/);
      }
      expect(await rv(cm())).toBe(before);
    });

    it('a real dryRun=All patch runs without approval and changes nothing (baseline)', async () => {
      const before = await rv(cm());
      const r = await gate(`${cm()}?dryRun=All`, mergePatch);
      expect(r.status).toBe(200);
      expect(r.json.data).toEqual({ a: 'pwned' });
      expect(await rv(cm())).toBe(before);
      expect((await live(cm())).data).toEqual({ a: '1' });
    });

    // For DELETE the apiserver reads DeleteOptions from the body when there is one and then ignores
    // the query: `?dryRun=All` plus a body is a real delete. (Found by this suite; fixed in b8360b8 —
    // these are its regression tests.)
    it('DELETE ?dryRun=All with a DeleteOptions body does not delete (approval still needed)', async () => {
      await configMap(n, 'del-body');
      const p = `/api/v1/namespaces/${n}/configmaps/del-body`;
      const seq = lastSeq();
      const r = await gate(`${p}?dryRun=All`, {
        method: 'DELETE',
        body: { kind: 'DeleteOptions', apiVersion: 'v1' },
        timeoutMs: HELD_MS,
      });
      await sleep(200);
      expect(
        await live(p),
        `DELETE answered ${r.status}: the ConfigMap was deleted without approval`,
      ).not.toBeNull();
      // the audit log recorded it as a harmless dry run
      expect(
        since(seq).filter(
          (x) => x.event === 'executed' && String(x.resource).includes('del-body') && x.dry_run,
        ),
      ).toEqual([]);
    });

    it('DELETE ?dryRun=All with body {} on a Namespace (CRITICAL) does not delete it', async () => {
      const victimNs = await ns('dec-nsdel');
      const r = await gate(`/api/v1/namespaces/${victimNs}?dryRun=All`, {
        method: 'DELETE',
        body: {},
        timeoutMs: HELD_MS,
      });
      await sleep(200);
      const after = await live(`/api/v1/namespaces/${victimNs}`);
      expect(after, `answered ${r.status}`).not.toBeNull();
      expect(after.status.phase, `DELETE answered ${r.status}: the Namespace is being deleted`).toBe(
        'Active',
      );
    });

    it('deletecollection ?dryRun=All with a body does not delete the collection', async () => {
      const coll = await ns('dec-coll');
      await configMap(coll, 'keep-me');
      const r = await gate(`/api/v1/namespaces/${coll}/configmaps?dryRun=All`, {
        method: 'DELETE',
        body: {},
        timeoutMs: HELD_MS,
      });
      await sleep(300);
      expect(
        await live(`/api/v1/namespaces/${coll}/configmaps/keep-me`),
        `deletecollection answered ${r.status}: the collection was deleted without approval`,
      ).not.toBeNull();
    });

    it('DELETE ?dryRun=All with a body saying dryRun: [] does not delete', async () => {
      await configMap(n, 'del-body2');
      const p = `/api/v1/namespaces/${n}/configmaps/del-body2`;
      await gate(`${p}?dryRun=All`, { method: 'DELETE', body: { dryRun: [] }, timeoutMs: HELD_MS });
      await sleep(200);
      expect(await live(p), 'deleted without approval').not.toBeNull();
    });

    it('DELETE with dryRun only in the body (no query): a dry run at most (or held), the object stays', async () => {
      await configMap(n, 'del-body3');
      const p = `/api/v1/namespaces/${n}/configmaps/del-body3`;
      const seq = lastSeq();
      const r = await gate(p, { method: 'DELETE', body: { dryRun: ['All'] }, timeoutMs: HELD_MS });
      expect(r.timedOut || [200, 403].includes(r.status)).toBe(true);
      await sleep(200);
      expect(await live(p)).not.toBeNull();
      expect(forwardedSince(seq, `${n}/configmaps/del-body3`)).toEqual([]);
    });

    // FINDING (the b8360b8 fix is incomplete): applyDeleteOptionsDryRun (gate.ts) returns early when the
    // parsed body is null, and then trusts ?dryRun=All. But `null`, a YAML `~`, a comment-only or
    // blank YAML document are non-empty bodies to the apiserver: it decodes them as empty
    // DeleteOptions, ignores the query, and deletes for real.
    const nullish: [string, string, string][] = [
      ['JSON null', 'null', 'application/json'],
      ['JSON null, no content type', 'null', ''],
      ['YAML ~', '~', 'application/yaml'],
      ['YAML comment only', '# nothing here', 'application/yaml'],
      ['YAML blank', '   \n', 'application/yaml'],
      ['YAML explicit empty document', '---\n', 'application/yaml'],
    ];
    for (const [what, body, ct] of nullish) {
      it(`DELETE ?dryRun=All with a ${what} body does not delete`, async () => {
        const name = `del-null-${nullish.findIndex((x) => x[0] === what)}`;
        await configMap(n, name);
        const p = `/api/v1/namespaces/${n}/configmaps/${name}`;
        const r = await gate(`${p}?dryRun=All`, {
          method: 'DELETE',
          body,
          ...(ct ? { contentType: ct } : { headers: { 'content-type': '' } }),
          timeoutMs: HELD_MS,
        });
        await sleep(200);
        expect(await live(p), `DELETE answered ${r.status}: deleted without approval`).not.toBeNull();
      });
    }

    it('deletecollection ?dryRun=All with a `null` body does not delete the collection', async () => {
      const coll = await ns('dec-coll-null');
      await configMap(coll, 'keep-me');
      const r = await gate(`/api/v1/namespaces/${coll}/configmaps?dryRun=All`, {
        method: 'DELETE',
        body: 'null',
        timeoutMs: HELD_MS,
      });
      await sleep(300);
      expect(
        await live(`/api/v1/namespaces/${coll}/configmaps/keep-me`),
        `answered ${r.status}`,
      ).not.toBeNull();
    });

    describe('dryRun on subresources that ignore it is not a free pass', () => {
      let podName: string;
      beforeAll(async () => {
        podName = 'dr-pod';
        await pod(n, podName);
      });
      const cases = () =>
        [
          [
            'eviction',
            `/api/v1/namespaces/${n}/pods/${podName}/eviction?dryRun=All`,
            'POST',
            { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: podName } },
          ],
          [
            'binding',
            `/api/v1/namespaces/${n}/pods/${podName}/binding?dryRun=All`,
            'POST',
            {
              apiVersion: 'v1',
              kind: 'Binding',
              metadata: { name: podName },
              target: { kind: 'Node', name: 'n1' },
            },
          ],
          [
            'token',
            `/api/v1/namespaces/${n}/serviceaccounts/default/token?dryRun=All`,
            'POST',
            { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
          ],
          ['exec', `/api/v1/namespaces/${n}/pods/${podName}/exec?command=true&dryRun=All`, 'POST', undefined],
          [
            'ephemeralcontainers',
            `/api/v1/namespaces/${n}/pods/${podName}/ephemeralcontainers?dryRun=All`,
            'PATCH',
            { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] } },
          ],
        ] as const;
      it('eviction, binding, token, exec, ephemeralcontainers with ?dryRun=All are held or refused, pod unchanged', async () => {
        const before = await rv(`/api/v1/namespaces/${n}/pods/${podName}`);
        for (const [what, p, method, body] of cases()) {
          const seq = lastSeq();
          const r = await gate(p, {
            method,
            ...(body ? { body } : {}),
            ...(method === 'PATCH' ? { contentType: 'application/strategic-merge-patch+json' } : {}),
            timeoutMs: HELD_MS,
          });
          expect(r.timedOut || r.status === 403, `${what}: ${r.status} ${r.body.slice(0, 200)}`).toBe(true);
          await sleep(150);
          expect(forwardedSince(seq, n), what).toEqual([]);
          expect(stoppedSince(seq, n).length, what).toBeGreaterThan(0);
        }
        const after = await live(`/api/v1/namespaces/${n}/pods/${podName}`);
        expect(after.metadata.resourceVersion).toBe(before);
        expect(after.spec.nodeName).toBeUndefined();
        expect(after.spec.ephemeralContainers).toBeUndefined();
      });
    });
  });

  describe('bodies', () => {
    // Go's decoder reads a repeated key into the first value (nested objects merge), JSON.parse keeps
    // the last: a privileged container or a hostPath could hide behind a harmless duplicate (found by
    // an independent bypass run). Such bodies, big integers and lone surrogates are refused.
    it('JSON the apiserver would read differently (repeated keys, integers past 2^53, lone surrogates) is refused (400)', async () => {
      const seq = lastSeq();
      const bodies: [string, string, string][] = [
        [
          `/apis/apps/v1/namespaces/${n}/deployments/web`,
          'application/merge-patch+json',
          '{"spec":{"replicas":1,"replicas":9}}',
        ],
        [
          `/api/v1/namespaces/${n}/pods`,
          'application/json',
          '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup"},"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true},"securityContext":{"readOnlyRootFilesystem":true}}]}}',
        ],
        [
          '/api/v1/namespaces',
          'application/json',
          '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kubegate-system"},"metadata":{"generateName":"team-"}}',
        ],
        [
          `/api/v1/namespaces/${n}/configmaps`,
          'application/json',
          '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"x":9007199254740993}',
        ],
        [
          `/api/v1/namespaces/${n}/configmaps`,
          'application/json',
          '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"sur"},"data":{"a":"\\ud800"}}',
        ],
      ];
      for (const [path, contentType, body] of bodies) {
        const r = await gate(path, { method: path.endsWith('/web') ? 'PATCH' : 'POST', body, contentType });
        expect(r.status, body).toBe(400);
        expect(r.json).toMatchObject({ kind: 'Status', code: 400 });
      }
      expect(forwardedSince(seq, n)).toEqual([]);
      expect(await live(`/api/v1/namespaces/${n}/pods/dup`)).toBeNull();
    });

    it('an approval for a strategic-merge patch cannot be reused with merge-patch (same body, other meaning)', async () => {
      const p = `/apis/apps/v1/namespaces/${n}/deployments/web`;
      const body = { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } };
      await gate(p, {
        method: 'PATCH',
        body,
        contentType: 'application/strategic-merge-patch+json',
        timeoutMs: HELD_MS,
      });
      const pend = await waitPending(`${n}/deployments/web`);
      const token = await signToken('alice', { fingerprints: [pend.fingerprint], requestIds: [pend.id] });
      const before = await rv(p);
      const seq = lastSeq();
      for (const ct of [
        'application/merge-patch+json',
        'application/json-patch+json',
        'application/apply-patch+yaml',
      ]) {
        const r = await gate(p, {
          method: 'PATCH',
          body,
          contentType: ct,
          headers: { 'kubegate-approval': token },
        });
        expect(r.status, ct).toBeGreaterThanOrEqual(400);
        expect(r.json?.message ?? '', ct).toMatch(/different request|not valid|approval refused|replay/);
      }
      expect(await rv(p)).toBe(before);
      expect(forwardedSince(seq, `${n}/deployments/web`)).toEqual([]);
    });

    it('content-type case and parameters do not change the decision: Application/JSON; charset=utf-8 is held', async () => {
      const before = await rv(cm());
      const seq = lastSeq();
      const r = await gate(cm(), {
        method: 'PATCH',
        body: { data: { a: 'pwned' } },
        contentType: 'Application/Merge-Patch+JSON; charset=utf-8',
        timeoutMs: HELD_MS,
      });
      expect(r.timedOut || r.status === 403).toBe(true);
      await sleep(200);
      expect(await rv(cm())).toBe(before);
      expect(stoppedSince(seq, `${n}/configmaps/victim`).length).toBeGreaterThan(0);
    });

    it('a list of content types or an unknown/opaque one is refused with 415, not forwarded unseen', async () => {
      const before = await rv(cm());
      for (const ct of [
        'application/json, application/yaml',
        'text/plain',
        'application/octet-stream',
        'application/x-www-form-urlencoded',
        'application/vnd.kubernetes.protobuf',
        'application/cbor',
        'application/apply-patch+cbor',
      ]) {
        const r = await gate(cm(), {
          method: 'PATCH',
          body: '{"data":{"a":"pwned"}}',
          contentType: ct,
          timeoutMs: HELD_MS,
        });
        expect([400, 415], `${ct}: ${r.status}`).toContain(r.status);
      }
      expect(await rv(cm())).toBe(before);
    });

    // FINDING (policy sees another document than the apiserver applies): kubegate parses YAML bodies
    // as YAML 1.2 (body.ts), the apiserver as YAML 1.1 (sigs.k8s.io/yaml): `privileged: yes` is the
    // string "yes" to the policy and the approver, and `true` to the apiserver.
    it('YAML 1.1 booleans: a privileged Pod written `privileged: yes` is classified as a security setting', async () => {
      const yaml = [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: yaml11}',
        'spec:',
        '  containers:',
        '  - name: c',
        '    image: busybox',
        '    securityContext: {privileged: yes}',
        '',
      ].join('\n');
      const seq = lastSeq();
      const r = await gate(`/api/v1/namespaces/${n}/pods?dryRun=All`, {
        method: 'POST',
        body: yaml,
        contentType: 'application/yaml',
      });
      // the apiserver reads it as privileged
      if (r.status === 201) expect(r.json.spec.containers[0].securityContext.privileged).toBe(true);
      const decided = since(seq).find(
        (x) => x.event === 'forwarded' && String(x.resource).includes(`${n}/pods`),
      );
      expect(decided, 'no decision recorded').toBeDefined();
      expect(
        decided!.risk,
        `policy saw ${JSON.stringify(decided!.body?.spec?.containers?.[0]?.securityContext)}`,
      ).toBe('HIGH');
      expect(await live(`/api/v1/namespaces/${n}/pods/yaml11`)).toBeNull();
    });

    it('YAML merge keys are not a way to hide fields: `<<: {hostNetwork: true}` is seen as hostNetwork', async () => {
      const yaml =
        'apiVersion: v1\nkind: Pod\nmetadata: {name: yamlmerge}\nspec:\n  <<: {hostNetwork: true}\n  containers: [{name: c, image: busybox}]\n';
      const seq = lastSeq();
      const r = await gate(`/api/v1/namespaces/${n}/pods?dryRun=All`, {
        method: 'POST',
        body: yaml,
        contentType: 'application/yaml',
      });
      const decided = since(seq).find(
        (x) => x.event === 'forwarded' && String(x.resource).includes(`${n}/pods`),
      );
      if (r.status === 201 && r.json.spec.hostNetwork === true) {
        expect(decided!.risk).toBe('HIGH');
        expect(decided!.reasons.join(' ')).toMatch(/hostNetwork/);
      } else {
        expect(r.status).toBeGreaterThanOrEqual(400);
      }
      expect(await live(`/api/v1/namespaces/${n}/pods/yamlmerge`)).toBeNull();
    });

    it('a YAML alias/anchor bomb is refused, kubegate keeps serving', async () => {
      const yaml = 'a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n';
      const r = await gate(`/api/v1/namespaces/${n}/configmaps`, {
        method: 'POST',
        body: yaml,
        contentType: 'application/yaml',
      });
      expect(r.status).toBe(400);
      expect((await gate('/version')).status).toBe(200);
    });

    it('a number JSON cannot represent (1e400) gets a clear 4xx/5xx Status and kubegate keeps serving', async () => {
      const before = await rv(cm());
      const r = await gate(cm(), {
        method: 'PATCH',
        body: '{"data":{"a":"x"},"x":1e400}',
        contentType: 'application/merge-patch+json',
        timeoutMs: HELD_MS,
      });
      expect(r.timedOut || r.status >= 400).toBe(true);
      if (!r.timedOut) expect(r.json).toMatchObject({ kind: 'Status' });
      expect(await rv(cm())).toBe(before);
      expect((await gate('/version')).status).toBe(200);
    });
  });

  // Found by an independent bypass run (session 2): kubegate read a DELETE body as UTF-8 YAML
  // with dryRun: [All]; the apiserver saw the FF FE mark, decoded UTF-16, found no dryRun and deleted.
  describe('body encodings: the apiserver must not decode other text than the gate did', () => {
    const utf16 = (s: string) => Buffer.from(s, 'utf16le');
    /** UTF-16LE with a BOM to the apiserver; `dryRun: [All]` in a YAML comment to a UTF-8 reader. */
    const smuggled = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      utf16('{a: "'),
      Buffer.from(': 1\ndryRun: [All]\n# ', 'latin1'),
      utf16('"}'),
    ]);

    it('a UTF-16 DELETE body that reads as a dry run in UTF-8 is refused (400); object and collection stay', async () => {
      await configMap(n, 'utf16-victim');
      const p = `/api/v1/namespaces/${n}/configmaps/utf16-victim`;
      const seq = lastSeq();
      for (const target of [p, `/api/v1/namespaces/${n}/configmaps`]) {
        const r = await gate(target, { method: 'DELETE', body: smuggled, contentType: 'application/yaml' });
        expect(r.status).toBe(400);
        expect(r.json.message).toMatch(/UTF-8/);
      }
      await sleep(200);
      expect(await live(p)).not.toBeNull();
      expect(await live(cm())).not.toBeNull();
      expect(forwardedSince(seq, n)).toEqual([]);
    });

    it('a byte-order mark or a NUL in a JSON/YAML body is refused (400)', async () => {
      const before = await rv(cm());
      const bodies: [Buffer, string][] = [
        [Buffer.from('\uFEFF{"data":{"a":"x"}}', 'utf8'), 'application/merge-patch+json'],
        [Buffer.from('data:\n  a: x\n# \u0000 hidden\n', 'utf8'), 'application/apply-patch+yaml'],
        [Buffer.from([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]), 'application/merge-patch+json'],
      ];
      for (const [body, contentType] of bodies) {
        const r = await gate(`${cm()}?fieldManager=t`, { method: 'PATCH', body, contentType });
        expect(r.status).toBe(400);
        expect(r.json).toMatchObject({ kind: 'Status', code: 400 });
      }
      expect(await rv(cm())).toBe(before);
    });

    it('a YAML DeleteOptions dry run is forwarded as the JSON the gate read: a dry run, the object stays', async () => {
      await configMap(n, 'yaml-dry');
      const p = `/api/v1/namespaces/${n}/configmaps/yaml-dry`;
      const r = await gate(p, {
        method: 'DELETE',
        body: 'propagationPolicy: Background\ndryRun: [All]\n',
        contentType: 'application/yaml',
      });
      expect(r.status, r.body).toBe(200);
      expect(await live(p)).not.toBeNull();
    });

    it('a body nested 5000 levels deep gets a clear 400, and kubegate keeps deciding', async () => {
      const deep = `{"data":{"a":"x"},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      const r = await gate(cm(), {
        method: 'PATCH',
        body: deep,
        contentType: 'application/merge-patch+json',
      });
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(/nests deeper/);
      expect((await gate(cm())).status).toBe(200);
    });
  });

  it('a name no header can carry (€) in a dry run gets its answer, and kubegate keeps serving', async () => {
    const r = await gate(`/api/v1/namespaces/${n}/configmaps?dryRun=All`, {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '€' } },
    });
    // the apiserver refuses the name (422); what matters is an answer, not a dead process
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.json).toMatchObject({ kind: 'Status' });
    expect((await gate('/version')).status).toBe(200);
  });

  it('kubectl --dry-run=server runs unapproved and changes nothing; the same command for real is held', async () => {
    const before = await rv(cm());
    const dry = await kubectl(['annotate', 'configmap', 'victim', '-n', n, 'x=1', '--dry-run=server']);
    expect(dry.code).toBe(0);
    expect(await rv(cm())).toBe(before);
    const seq = lastSeq();
    const real = await kubectl(['annotate', 'configmap', 'victim', '-n', n, 'x=1', '--request-timeout=2s'], {
      timeoutMs: 20_000,
    });
    expect(real.code).not.toBe(0);
    await sleep(300);
    expect(await rv(cm())).toBe(before);
    expect(stoppedSince(seq, `${n}/configmaps/victim`).length).toBeGreaterThan(0);
  });
});

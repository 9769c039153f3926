import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuditInput, AuditLog } from '../../src/audit/log.js';
import { Receipt, RequestAudit } from '../../src/chain/audit.js';
import { Budget } from '../../src/chain/budget.js';
import { newContext } from '../../src/chain/context.js';
import { buildResourceRequest } from '../../src/kube/build.js';
import { parseRequest } from '../../src/kube/request.js';
import { createMetrics } from '../../src/metrics.js';
import { testCluster } from './fake-cluster.js';

function fakeLog(): { log: AuditLog; appended: AuditInput[] } {
  const appended: AuditInput[] = [];
  const add = async (r: AuditInput) => void appended.push(r);
  const log = { append: add, write: add } as unknown as AuditLog;
  return { log, appended };
}

const ctxFor = (method: string, url: string) =>
  newContext({
    origin: 'client',
    cluster: testCluster(),
    kr: parseRequest({ method, url, headers: {}, rawHeaders: [] }),
    headers: {},
    signal: new AbortController().signal,
    holdMs: 0,
  });

describe('the receipt: only the audit stage issues one', () => {
  it('cannot be made outside the audit stage', () => {
    expect(() => new Receipt(Symbol('receipt'), 'req-x', 'write-ahead')).toThrow(/audit stage only/);
  });

  it('a write-ahead receipt exists only once the forwarded record was appended', async () => {
    const { log, appended } = fakeLog();
    const audit = new RequestAudit(log, createMetrics({ defaultMetrics: false }), pino({ level: 'silent' }), {
      approvalDisabled: false,
      reads: 'none',
    });
    const ctx = ctxFor('DELETE', '/api/v1/namespaces/default/configmaps/x');
    const receipt = await audit.writeAhead(ctx);
    expect(receipt).toBeInstanceOf(Receipt);
    expect(receipt.requestId).toBe(ctx.facts.request_id);
    expect(appended).toHaveLength(1);
    expect(appended[0]).toMatchObject({
      event: 'forwarded',
      status: 'pending',
      request_id: ctx.id,
      cluster: 'kubegate',
    });
  });

  it('a read receipt is never issued for a change; a failing log refuses with 503', async () => {
    const audit = new RequestAudit(
      {
        append: () => Promise.reject(new Error('disk full')),
        write: () => Promise.reject(new Error('disk full')),
      } as unknown as AuditLog,
      createMetrics({ defaultMetrics: false }),
      pino({ level: 'silent' }),
      { approvalDisabled: false, reads: 'metadata' },
    );
    expect(() => audit.passRead(ctxFor('PATCH', '/api/v1/namespaces/default/configmaps/x'))).toThrow();
    await expect(
      audit.writeAhead(ctxFor('DELETE', '/api/v1/namespaces/default/configmaps/x')),
    ).rejects.toMatchObject({
      code: 503,
    });
  });

  it('the write-ahead record commits now; the outcome and reads ride the next group commit', async () => {
    const commits: Array<[string, unknown]> = [];
    const log = {
      write: async (r: AuditInput, o?: { commit?: string }) =>
        void commits.push([r.event, o?.commit ?? 'now']),
    } as unknown as AuditLog;
    const audit = new RequestAudit(log, createMetrics({ defaultMetrics: false }), pino({ level: 'silent' }), {
      approvalDisabled: false,
      reads: 'metadata',
    });
    const ctx = ctxFor('DELETE', '/api/v1/namespaces/default/configmaps/x');
    await audit.writeAhead(ctx);
    await audit.outcome(ctx.facts, 'executed', { status: 'success', http_status: 200 });
    audit.later(ctxFor('GET', '/api/v1/namespaces').facts, 'read', { http_status: 200 });
    await Promise.resolve();
    expect(commits).toEqual([
      ['forwarded', 'now'],
      ['executed', 'next'],
      ['read', 'next'],
    ]);
  });

  it('reads are recorded only with audit.reads metadata', async () => {
    for (const reads of ['none', 'metadata'] as const) {
      const { log, appended } = fakeLog();
      const audit = new RequestAudit(
        log,
        createMetrics({ defaultMetrics: false }),
        pino({ level: 'silent' }),
        {
          approvalDisabled: false,
          reads,
        },
      );
      audit.later(ctxFor('GET', '/api/v1/namespaces').facts, 'read', { http_status: 200 });
      await Promise.resolve();
      expect(appended.length).toBe(reads === 'none' ? 0 : 1);
    }
  });
});

describe('body budget: per caller and in all', () => {
  it('refuses past either cap and gives bytes back', () => {
    const b = new Budget(100, 60);
    expect(b.take('a', 50)).toBe(true);
    expect(b.take('a', 20)).toBe(false); // a's cap
    expect(b.take('b', 50)).toBe(true);
    expect(b.take('c', 10)).toBe(false); // the total
    b.give('a', 50);
    expect(b.take('c', 10)).toBe(true);
    expect(b.take('a', 60)).toBe(false); // total: 50 + 10 + 60 > 100
    expect(b.take('a', 40)).toBe(true);
  });
});

describe('requests kubegate builds itself', () => {
  it('encodes every path segment: a name with ? stays one object, never a query', () => {
    const kr = buildResourceRequest({
      verb: 'delete',
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'roles',
      subresource: '',
      namespace: 'team',
      name: 'victim?x=1',
      contentType: 'application/json',
    });
    expect(kr.path).toBe('/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles/victim%3Fx%3D1');
    expect(kr.search).toBe('');
    expect(kr).toMatchObject({ method: 'DELETE', name: 'victim?x=1', mutating: true, dryRun: false });
  });

  it('a dry run carries dryRun=All in its query', () => {
    const kr = buildResourceRequest({
      verb: 'patch',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      subresource: '',
      namespace: 'default',
      name: 'c',
      query: { dryRun: ['All'] },
      contentType: 'application/json-patch+json',
    });
    expect(kr.search).toBe('?dryRun=All');
    expect(kr.dryRun).toBe(true);
  });
});

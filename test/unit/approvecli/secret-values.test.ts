import { describe, expect, it } from 'vitest';
import { withoutSecretValues } from '../../../src/approvecli/secret-values.js';
import type { PendingDetail } from '../../../src/wire/request-view.js';

const secret = (body: unknown): PendingDetail =>
  ({
    verb: 'patch',
    group: '',
    version: 'v1',
    resource: 'secrets',
    subresource: '',
    namespace: 'n',
    name: 's',
    body,
  }) as PendingDetail;

describe('Secret values are never printed', () => {
  it('hides data and stringData values of a body, keeps the keys', () => {
    const d = withoutSecretValues(
      secret({ stringData: { password: 'p4ss' }, data: { k: 'dmFs' }, metadata: { labels: { a: 'b' } } }),
    );
    expect(JSON.stringify(d.body)).not.toMatch(/p4ss|dmFs/);
    expect(d.body).toMatchObject({
      stringData: { password: '(value not shown)' },
      metadata: { labels: { a: 'b' } },
    });
  });

  it('hides JSON-patch values under /data and /stringData', () => {
    const d = withoutSecretValues(
      secret([
        { op: 'add', path: '/data/k', value: 'dmFs' },
        { op: 'add', path: '/metadata/labels/x', value: 'y' },
      ]),
    );
    expect(d.body).toEqual([
      { op: 'add', path: '/data/k', value: '(value not shown)' },
      { op: 'add', path: '/metadata/labels/x', value: 'y' },
    ]);
  });

  it("hides kubectl apply's last-applied-configuration, which holds the whole Secret", () => {
    const annotation = 'kubectl.kubernetes.io/last-applied-configuration';
    const d = withoutSecretValues(
      secret({
        metadata: {
          name: 's',
          annotations: { [annotation]: '{"stringData":{"password":"p4ss"}}', keep: 'me' },
        },
      }),
    );
    expect(JSON.stringify(d.body)).not.toMatch(/p4ss/);
    expect(d.body).toMatchObject({ metadata: { annotations: { keep: 'me' } } });
    const op = withoutSecretValues(
      secret([
        {
          op: 'add',
          path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration',
          value: 'p4ss',
        },
      ]),
    );
    expect(JSON.stringify(op.body)).not.toMatch(/p4ss/);
  });

  it('leaves other kinds alone', () => {
    const cm = { ...secret({ data: { k: 'v' } }), resource: 'configmaps' } as PendingDetail;
    expect(withoutSecretValues(cm)).toBe(cm);
  });
});

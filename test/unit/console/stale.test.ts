import { describe, expect, it } from 'vitest';
import type { PendingView } from '../../../src/approvecli/types.js';
import { objectDigest } from '../../../src/console/object-digest.js';
import { staleShown } from '../../../src/console/stale.js';

const held = { metadata: { resourceVersion: '333' }, spec: { template: { spec: { securityContext: {} } } } };
const now = {
  metadata: { resourceVersion: '360' },
  spec: { template: { spec: { securityContext: { runAsNonRoot: true } } } },
};
const view = (over: Partial<PendingView> = {}) =>
  ({
    id: 'req-2',
    risk: 'MEDIUM',
    detail: { verb: 'patch', resourceVersion: '360', oldObject: now },
    moved: { heldAt: '333', now: '360', heldObject: held },
    ...over,
  }) as unknown as PendingView;

describe('a console approval is only built for the object version the page showed (F1)', () => {
  it('is built when the page showed the live resourceVersion and risk', () => {
    expect(staleShown(view(), { resourceVersion: '360', risk: 'MEDIUM' })).toBeUndefined();
  });

  it('is refused when the object moved since the page was drawn, naming the versions and what moved', () => {
    const why = staleShown(view(), { resourceVersion: '333', risk: 'MEDIUM' });
    expect(why).toMatch(/^the object changed since you opened the page \(resourceVersion 333 -> 360/);
    expect(why).toMatch(/spec\.template\.spec\.securityContext/);
    expect(why).toMatch(/reload and look again$/);
  });

  it('is refused when the page sent no version, or showed another risk', () => {
    expect(staleShown(view(), { risk: 'MEDIUM' })).toMatch(/resourceVersion \(none\) -> 360/);
    expect(staleShown(view(), { resourceVersion: '360', risk: 'LOW' })).toMatch(/risk is MEDIUM now/);
  });

  it('a create (no live object) is built with no version', () => {
    const create = view({ detail: { verb: 'create' } as PendingView['detail'], moved: undefined });
    expect(staleShown(create, {})).toBeUndefined();
    expect(staleShown(create, { resourceVersion: '5' })).toMatch(/5 -> \(none\)/);
  });

  it('a move of status and version counters alone does not make the page stale; any other edit does', () => {
    const shownObj = { ...now, metadata: { resourceVersion: '360', generation: 2 }, status: { ready: 0 } };
    const settled = { ...now, metadata: { resourceVersion: '371', generation: 2 }, status: { ready: 1 } };
    const live = view({
      detail: { verb: 'patch', resourceVersion: '371', oldObject: settled } as PendingView['detail'],
    });
    const ask = { resourceVersion: '360', objectDigest: objectDigest(shownObj), risk: 'MEDIUM' };
    expect(staleShown(live, ask)).toBeUndefined();
    const edited = { ...settled, metadata: { ...settled.metadata, annotations: { moved: 'yes' } } };
    const editedView = view({
      detail: { verb: 'patch', resourceVersion: '372', oldObject: edited } as PendingView['detail'],
    });
    expect(staleShown(editedView, ask)).toMatch(/resourceVersion 360 -> 372/);
  });

  it('redacted values (a Secret) give no digest: only the exact resourceVersion will do', () => {
    const secret = { kind: 'Secret', metadata: { resourceVersion: '9' }, data: { k: '[REDACTED]' } };
    expect(objectDigest(secret)).toBeUndefined();
    const moved = view({
      detail: { verb: 'patch', resourceVersion: '10', oldObject: secret } as PendingView['detail'],
    });
    expect(staleShown(moved, { resourceVersion: '9', objectDigest: undefined, risk: 'MEDIUM' })).toMatch(
      /9 -> 10/,
    );
  });
});

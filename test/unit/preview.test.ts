import { describe, expect, it } from 'vitest';
import { type PreviewDeps, previewHeld } from '../../src/api/preview.js';
import type { PendingRequest } from '../../src/wire/request-view.js';

describe('an approver’s preview of a held request', () => {
  it('is not offered for a request that impersonates someone: a dry run as its requester would show another user’s result', async () => {
    const held = {
      id: 'req-1',
      requester: 'admin',
      detail: {
        verb: 'create',
        cluster: 'kubegate',
        impersonate: { user: 'bob', uid: null, groups: [], extra: {} },
      },
    } as unknown as PendingRequest;
    // nothing else is asked of kubegate or the apiserver
    const d = {} as PreviewDeps;
    expect(await previewHeld(d, held, 'alice')).toEqual({
      available: false,
      reason: 'the request impersonates another user (Impersonate-* headers)',
    });
  });
});

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/chain/forward.js';
import { type RecordDeps, recordOutcome } from '../../src/chain/record.js';

type Approved = Parameters<typeof recordOutcome>[0];

/** An approved exec of one approval, as the chain has it when its upgrade's outcome is known. */
function approvedExec(): Approved {
  return {
    origin: 'client',
    started: Date.now(),
    cluster: { name: 'kubegate' },
    facts: { request_id: 'req-exec', cluster: 'kubegate' },
    kr: { upgrade: true, subresource: 'exec', dryRun: false, verb: 'create', mutating: true },
    decided: { fingerprint: 'sha256:exec' },
    approved: { jtis: ['jti-1'], pending: { id: 'req-held' } },
  } as unknown as Approved;
}

/** What recordOutcome said: the outcome record's fields, and how the approvals were settled. */
async function record(o: Outcome) {
  const said: { fields?: Record<string, unknown>; settled?: string } = {};
  const d = {
    audit: {
      outcome: async (_f: unknown, _e: string, fields: Record<string, unknown>) => {
        said.fields = fields;
      },
    },
    approvals: {
      settle: async (_p: unknown, _j: string[], outcome: string) => {
        said.settled = outcome;
      },
    },
    metrics: { upstream: () => undefined },
    logger: pino({ level: 'silent' }),
  } as unknown as RecordDeps;
  await recordOutcome(approvedExec(), o, d);
  return said;
}

describe("an exec upgrade's approval", () => {
  it('is given back when the upstream answered without a 101 (no stream opened; kubectl retries over SPDY)', async () => {
    const said = await record({ status: 400 });
    expect(said.fields).toMatchObject({ status: 'failed', approval_kept: true });
    expect(said.settled).toBe('give-back');
  });

  it('is given back when nothing was sent', async () => {
    const said = await record({ status: 0, notSent: true, error: 'client went away before forwarding' });
    expect(said.settled).toBe('give-back');
  });

  // round 20: a connection lost mid-upgrade gave the approval back, though the kubelet may have
  // started the command before its 101 reached kubegate (the same exec could then run again)
  it('is spent when the upgrade was sent and no answer came: the outcome is unknown', async () => {
    const said = await record({ status: 0, error: 'socket hang up' });
    expect(said.fields).toMatchObject({ status: 'unknown', http_status: 0 });
    expect(said.fields?.approval_kept).toBeUndefined();
    expect(said.settled).toBe('failed');
  });
});

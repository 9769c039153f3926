import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../../../src/audit/types.js';
import { REFUSALS_PER_MINUTE, RefusalLog } from '../../../src/console/refusals.js';
import type { Metrics } from '../../../src/metrics.js';

function setup() {
  const records: AuditInput[] = [];
  let counted = 0;
  let t = 1_000_000;
  const metrics = { refusedCaller: () => counted++ } as unknown as Metrics;
  const log = new RefusalLog({ append: async (r) => records.push(r) }, metrics, () => t);
  return {
    log,
    records,
    counted: () => counted,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const failed: AuditInput = { event: 'console_sign_in_failed', status: 'refused', message: 'no' };

describe('RefusalLog (a flood of failed sign-ins does not flood the audit log)', () => {
  it('records the first few per source and minute, counts every one, and sums the rest in one record', async () => {
    const s = setup();
    for (let i = 0; i < 1000; i++) await s.log.refused('10.0.0.1', failed);
    expect(s.counted()).toBe(1000);
    expect(s.records).toHaveLength(REFUSALS_PER_MINUTE);
    expect(s.records[0]).toMatchObject({ event: 'console_sign_in_failed', source: '10.0.0.1' });
    s.advance(60_000);
    s.log.flush();
    await Promise.resolve();
    expect(s.records).toHaveLength(REFUSALS_PER_MINUTE + 1);
    expect(s.records.at(-1)).toMatchObject({
      event: 'console_refusals_suppressed',
      source: '10.0.0.1',
      count: 1000 - REFUSALS_PER_MINUTE,
    });
    s.log.stop();
  });

  it("one flooding source does not use up another's records; a new minute records again", async () => {
    const s = setup();
    for (let i = 0; i < 100; i++) await s.log.refused('10.0.0.1', failed);
    await s.log.refused('10.0.0.2', failed);
    expect(s.records.filter((r) => r.source === '10.0.0.2')).toHaveLength(1);
    s.advance(60_001);
    await s.log.refused('10.0.0.1', failed);
    await Promise.resolve();
    const mine = s.records.filter((r) => r.source === '10.0.0.1').map((r) => r.event);
    expect(mine.filter((e) => e === 'console_sign_in_failed')).toHaveLength(REFUSALS_PER_MINUTE + 1);
    expect(mine).toContain('console_refusals_suppressed');
    s.log.stop();
  });

  it('keeps memory bounded under many sources: the rest share one bucket', async () => {
    const s = setup();
    for (let i = 0; i < 5000; i++) await s.log.refused(`src-${i}`, failed);
    expect(s.records.length).toBeLessThanOrEqual(1000 + REFUSALS_PER_MINUTE);
    expect(s.counted()).toBe(5000);
    s.log.stop();
  });
});

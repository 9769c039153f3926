import { describe, expect, it } from 'vitest';
import { createMetrics, stopwatch } from '../../../src/metrics.js';

/** A sample's value from Prometheus text, e.g. value(text, 'kubegate_held_requests{cluster=""}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('renders Prometheus text with every kubegate metric and the process metrics', async () => {
    const m = createMetrics();
    m.decision('HIGH', 'held');
    m.decision('HIGH', 'held');
    m.decision('LOW', 'forwarded');
    m.decision('weird', 'refused');
    m.held(1);
    m.held(1);
    m.held(-1);
    m.approvalLatency(42);
    m.policyEval(0.00003);
    m.upstream('read', 0.004);
    m.upstream('write', 0.2);
    m.auditAppend(0.002);
    const text = await m.render();
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'kubegate_decisions_total',
      'kubegate_held_requests',
      'kubegate_approval_latency_seconds',
      'kubegate_policy_eval_seconds',
      'kubegate_upstream_latency_seconds',
      'kubegate_audit_fsync_seconds',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(value(text, 'kubegate_decisions_total{cluster="",risk="HIGH",outcome="held"}')).toBe(2);
    expect(value(text, 'kubegate_decisions_total{cluster="",risk="LOW",outcome="forwarded"}')).toBe(1);
    expect(value(text, 'kubegate_decisions_total{cluster="",risk="CRITICAL",outcome="blocked"}')).toBe(0);
    expect(value(text, 'kubegate_decisions_total{cluster="",risk="UNKNOWN",outcome="refused"}')).toBe(1);
    expect(value(text, 'kubegate_held_requests{cluster=""}')).toBe(1);
    expect(value(text, 'kubegate_approval_latency_seconds_count')).toBe(1);
    expect(value(text, 'kubegate_approval_latency_seconds_bucket{le="60"}')).toBe(1);
    expect(value(text, 'kubegate_approval_latency_seconds_bucket{le="30"}')).toBe(0);
    expect(value(text, 'kubegate_policy_eval_seconds_bucket{le="0.00001"}')).toBe(0);
    expect(value(text, 'kubegate_policy_eval_seconds_bucket{le="0.00005"}')).toBe(1);
    expect(value(text, 'kubegate_upstream_latency_seconds_count{cluster="",verb_class="read"}')).toBe(1);
    expect(value(text, 'kubegate_upstream_latency_seconds_count{cluster="",verb_class="write"}')).toBe(1);
    expect(value(text, 'kubegate_audit_fsync_seconds_sum')).toBeCloseTo(0.002);
  });

  it('keeps registries apart, ignores nonsense durations and labels every series on request', async () => {
    const a = createMetrics({ defaultMetrics: false, labels: { replica: 'kg-0' } });
    const b = createMetrics({ defaultMetrics: false });
    a.policyEval(Number.NaN);
    a.policyEval(-1);
    a.decision('MEDIUM', 'forwarded');
    const ta = await a.render();
    const tb = await b.render();
    expect(ta).not.toContain('process_cpu_seconds_total');
    expect(value(ta, 'kubegate_policy_eval_seconds_count{replica="kg-0"}')).toBe(0);
    expect(
      value(ta, 'kubegate_decisions_total{cluster="",risk="MEDIUM",outcome="forwarded",replica="kg-0"}'),
    ).toBe(1);
    expect(value(tb, 'kubegate_decisions_total{cluster="",risk="MEDIUM",outcome="forwarded"}')).toBe(0);
  });

  it('labels decisions, held requests and upstream latency by cluster; an unknown name folds into the first', async () => {
    const m = createMetrics({ defaultMetrics: false, clusters: ['prod', 'staging'] });
    m.decision('HIGH', 'held', 'staging');
    m.decision('HIGH', 'held', 'no-such-cluster');
    m.held(1, 'staging');
    m.upstream('write', 0.1, 'prod');
    const text = await m.render();
    expect(value(text, 'kubegate_decisions_total{cluster="staging",risk="HIGH",outcome="held"}')).toBe(1);
    expect(value(text, 'kubegate_decisions_total{cluster="prod",risk="HIGH",outcome="held"}')).toBe(1);
    expect(value(text, 'kubegate_decisions_total{cluster="prod",risk="LOW",outcome="forwarded"}')).toBe(0);
    expect(value(text, 'kubegate_held_requests{cluster="staging"}')).toBe(1);
    expect(value(text, 'kubegate_held_requests{cluster="prod"}')).toBe(0);
    expect(value(text, 'kubegate_upstream_latency_seconds_count{cluster="prod",verb_class="write"}')).toBe(1);
    expect(text).not.toContain('no-such-cluster');
  });

  it('measures with a stopwatch', async () => {
    const t = stopwatch();
    await new Promise((r) => setTimeout(r, 20));
    const s = t();
    expect(s).toBeGreaterThan(0.015);
    expect(s).toBeLessThan(1);
  });
});

// Sink delivery and failures are visible on /kubegate/metrics, read from the sinks when scraped.
import { describe, expect, it } from 'vitest';
import type { SinkStatus } from '../../../src/audit/sink.js';
import { createMetrics } from '../../../src/metrics.js';

describe('sink metrics', () => {
  it('renders delivered, failures and queued per sink, as they are at scrape time', async () => {
    const status: SinkStatus[] = [
      { name: 'notify.webhook', type: 'webhook', shipped: 4, queued: 1, failures: 3, cursor: 9 },
      { name: 'notify.slack', type: 'webhook', shipped: 2, queued: 0, failures: 0, cursor: 9 },
    ];
    const m = createMetrics({ defaultMetrics: false, sinks: () => status });
    let text = await m.render();
    expect(text).toContain('kubegate_sink_delivered_total{sink="notify.webhook"} 4');
    expect(text).toContain('kubegate_sink_failures_total{sink="notify.webhook"} 3');
    expect(text).toContain('kubegate_sink_queued{sink="notify.webhook"} 1');
    expect(text).toContain('kubegate_sink_failures_total{sink="notify.slack"} 0');
    status[0]!.failures = 5;
    text = await m.render();
    expect(text).toContain('kubegate_sink_failures_total{sink="notify.webhook"} 5');
  });
});

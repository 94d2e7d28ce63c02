import { describe, expect, it } from 'vitest';
import { Registry } from './metrics.js';

describe('Prometheus registry', () => {
  it('renders counters, gauges and histograms in the text format', () => {
    const r = new Registry();
    const c = r.counter('dingkit_sends_total', 'Sends by outcome.');
    c.inc({ outcome: 'delivered' });
    c.inc({ outcome: 'delivered' });
    c.inc({ outcome: 'dead', robot: 'a"b' });
    r.gauge('dingkit_queue_depth', 'Queued jobs.', () => [[{ state: 'queued' }, 3]]);
    const h = r.histogram('dingkit_send_seconds', 'Send latency.', [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    const text = r.render();
    expect(text).toContain('# TYPE dingkit_sends_total counter');
    expect(text).toContain('dingkit_sends_total{outcome="delivered"} 2');
    expect(text).toContain('dingkit_sends_total{outcome="dead",robot="a\\"b"} 1');
    expect(text).toContain('dingkit_queue_depth{state="queued"} 3');
    expect(text).toContain('dingkit_send_seconds_bucket{le="0.1"} 1');
    expect(text).toContain('dingkit_send_seconds_bucket{le="1"} 2');
    expect(text).toContain('dingkit_send_seconds_bucket{le="+Inf"} 2');
    expect(text).toContain('dingkit_send_seconds_count 2');
  });
});

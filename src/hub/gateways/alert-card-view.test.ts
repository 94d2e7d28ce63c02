import { describe, expect, it } from 'vitest';
import { type AlertCardView, alertCardData, webLink } from './alert-card-view.js';
import type { HookItem } from './items.js';

const item: HookItem = {
  kind: 'firing',
  fingerprint: 'fp1',
  labels: {
    alertname: 'HighLatency',
    severity: 'critical',
    service: 'api',
    instance: 'web-1',
    owner: '张三',
  },
  annotations: { summary: 'p99 over 2 s', runbook_url: 'https://runbooks.example/latency' },
  startsAt: '2026-12-05T02:00:00Z',
  generatorURL: 'http://prometheus.example/graph?g0.expr=up',
};

const firing: AlertCardView = {
  item,
  state: 'firing',
  since: '2026-12-05 10:00 (UTC+08:00)',
  until: '',
  durationMs: undefined,
  flaps: 0,
  names: ['张三', 'Bob Li'],
  hidden: ['owner'],
};

const buttons = (p: Record<string, string>) => JSON.parse(p['buttons'] ?? 'null') as Array<{ url: string }>;

describe('alert card values', () => {
  it('a firing alert: name, state, severity, summary, labels, names, since, links', () => {
    const p = alertCardData(firing, 'en');
    expect(p['title']).toBe('HighLatency');
    expect(p['status']).toBe('Firing');
    expect(p['state']).toBe('firing');
    expect(p['content']).toContain('**Severity**: critical');
    expect(p['content']).toContain('p99 over 2 s');
    expect(p['content']).toContain('- instance: web-1\n- service: api');
    expect(p['content']).toContain('**Owners**: 张三, Bob Li');
    // The owner label is shown as the names, not twice.
    expect(p['content']).not.toContain('- owner');
    expect(alertCardData({ ...firing, names: [] }, 'en')['content']).toContain('- owner: 张三');
    expect(p['content']).not.toContain('flapped');
    expect(p['lastAction']).toBe('Firing since 2026-12-05 10:00 (UTC+08:00)');
    expect(buttons(p).map((b) => b.url)).toEqual([
      'http://prometheus.example/graph?g0.expr=up',
      'https://runbooks.example/latency',
    ]);
  });

  it('resolved, in Chinese: state, resolved at, how long it fired, flaps', () => {
    const p = alertCardData(
      {
        ...firing,
        item: { ...item, kind: 'resolved' },
        state: 'resolved',
        until: '2026-12-05 11:05 (UTC+08:00)',
        durationMs: 65 * 60_000 + 3_000,
        flaps: 2,
      },
      'zh-CN',
    );
    expect(p['status']).toBe('已恢复');
    expect(p['state']).toBe('resolved');
    expect(p['lastAction']).toBe('恢复于 2026-12-05 11:05 (UTC+08:00)，持续 1小时5分钟');
    expect(p['content']).toContain('**抖动 2 次**');
    expect(p['content']).toContain('**级别**：critical');
  });

  it('every value is a string (cardParamMap holds strings only, §10)', () => {
    for (const v of Object.values(alertCardData(firing, 'en'))) expect(typeof v).toBe('string');
  });

  it('attack: links that are not http(s) are left off the card', () => {
    const evil = {
      ...firing,
      item: {
        ...item,
        generatorURL: 'javascript:alert(document.cookie)',
        annotations: { runbook_url: 'dingtalk://dingtalkclient/page/link?url=x' },
      },
    };
    expect(buttons(alertCardData(evil, 'en'))).toEqual([]);
    expect(webLink('data:text/html,<script>1</script>')).toBeUndefined();
    expect(webLink('not a url')).toBeUndefined();
    expect(webLink(`https://x.example/${'a'.repeat(3000)}`)).toBeUndefined();
    expect(webLink('https://x.example/ok')).toBe('https://x.example/ok');
  });

  it('long values are clipped, a nameless alert is called "alert"', () => {
    const p = alertCardData(
      { ...firing, item: { ...item, labels: { x: 'v'.repeat(1000) }, annotations: {} } },
      'en',
    );
    expect(p['title']).toBe('alert');
    expect(p['content']).toContain(`- x: ${'v'.repeat(199)}…`);
    expect(p['content']).not.toContain('v'.repeat(201));
  });
});

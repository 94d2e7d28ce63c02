/**
 * Alertmanager webhook bodies (version 4, Prometheus docs "webhook_config"): one alert firing, then resolved.
 * The fingerprint carries the post number so that each `hooks test` is a new alert, not a repeat.
 */
import type { HookSample } from './sample.js';

function body(status: 'firing' | 'resolved', n: number, now: Date): unknown {
  const startsAt = new Date(now.getTime() - 10 * 60_000).toISOString();
  const labels = {
    alertname: 'DiskFull',
    severity: 'warning',
    service: 'db-main',
    instance: 'db-1:9100',
    test: 'dingkit hooks test',
  };
  return {
    version: '4',
    groupKey: `{}:{alertname="DiskFull",test="${n}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'dingkit',
    groupLabels: { alertname: 'DiskFull' },
    commonLabels: labels,
    commonAnnotations: { summary: 'Disk on db-1 is 91% full (a test alert)' },
    externalURL: 'http://alertmanager.example:9093',
    alerts: [
      {
        status,
        labels,
        annotations: { summary: 'Disk on db-1 is 91% full (a test alert)' },
        startsAt,
        endsAt: status === 'resolved' ? now.toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=disk',
        fingerprint: `dingkit-test-${now.getTime().toString(16)}-${n}`,
      },
    ],
  };
}

export const alertmanagerSamples: readonly HookSample[] = [
  { name: 'firing', body: (n, now) => body('firing', n, now) },
  { name: 'resolved', body: (n, now) => body('resolved', n, now) },
];

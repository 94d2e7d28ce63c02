/**
 * Alertmanager's webhook body, version 4 (Prometheus docs, "webhook_config"): one request per notification of an
 * alert group, with the group's status and every alert of the group (firing and resolved ones together).
 *
 * Validated with zod so that a wrong field is a 400 naming it (`alerts.3.status: ...`); unknown extra fields are
 * ignored (Alertmanager adds some over time, e.g. `truncatedAlerts`).
 *
 * Dedupe key: the group key, the group status, and per alert its fingerprint, status, startsAt and endsAt.
 * Alertmanager resends a notification it could not deliver (and a retry after a lost answer is the same request):
 * those are one delivery. A later notification of the same group differs in at least one alert's status or times
 * (an alert resolved, a new one joined), so it is a new delivery even though the group key is the same.
 */

import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HookItem, ParsedHook } from './items.js';

const text = z.string().max(8_192);
/** Labels and annotations: string values, at most 100 (Grafana's body uses the same, grafana.ts). */
export const labelSet = z
  .record(z.string().min(1).max(256), text)
  .refine((o) => Object.keys(o).length <= 100, {
    message: 'at most 100 entries',
  });

/** One alert of the body; Grafana's alert is this with its links and values added (grafana.ts). */
export const alertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: z.string().max(64),
  endsAt: z.string().max(64).default(''),
  generatorURL: z.string().max(2_048).default(''),
  fingerprint: z.string().min(1).max(128),
});

export const alertmanagerBody = z.object({
  version: z.literal('4', { message: 'only version "4" of the webhook body is understood' }),
  groupKey: z.string().min(1).max(4_096),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(256),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(2_048).default(''),
  alerts: z.array(alertmanagerAlert).min(1).max(10_000),
});
export type AlertmanagerBody = z.infer<typeof alertmanagerBody>;

/** One alert's item, without its source: what Alertmanager's and Grafana's alerts have in common. */
export function alertItem(a: z.infer<typeof alertmanagerAlert>): HookItem {
  return {
    kind: a.status,
    fingerprint: a.fingerprint,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    ...(a.endsAt ? { endsAt: a.endsAt } : {}),
    ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
  };
}

/** A notification's dedupe hash: `head` (group key, status...), then each alert's identity, status and times, sorted. */
export function alertsHash(head: string, alerts: readonly z.infer<typeof alertmanagerAlert>[]): string {
  const h = createHash('sha256');
  h.update(head);
  const keys = alerts.map((a) => `${a.fingerprint}|${a.status}|${a.startsAt}|${a.endsAt}`).sort();
  for (const k of keys) h.update(`${k}\n`);
  return h.digest('hex');
}

/** The items of a validated body, and its dedupe key. */
export function alertmanagerItems(body: AlertmanagerBody): ParsedHook {
  const items: HookItem[] = body.alerts.map((a) => ({
    ...alertItem(a),
    source: { receiver: body.receiver, externalURL: body.externalURL, groupKey: body.groupKey },
  }));
  return { dedupKey: `am:${alertsHash(`${body.groupKey}\n${body.status}\n`, body.alerts)}`, items };
}

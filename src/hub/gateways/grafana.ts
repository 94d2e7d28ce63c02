/**
 * Grafana's unified alerting, webhook contact point (Grafana docs, "Configure webhook notifications"): one request per
 * notification of an alert group, shaped like Alertmanager's body (Grafana's alerting is an Alertmanager) with
 * `version: "1"`, the organisation (`orgId`), Grafana's own links per alert (`dashboardURL`, `panelURL`,
 * `silenceURL`, `imageURL`), the values that fired it (`values`, or `valueString` in older releases), and a rendered
 * `title` / `message` / `state` kept for the legacy notifier's readers.
 *
 * Each alert is one item. Its `fingerprint` is its identity across firing and resolved, as with Alertmanager, so a
 * resolved item refers to the firing message and flapping and digests work unchanged. Dedupe is Alertmanager's:
 * the group key, the group status, and per alert its fingerprint, status, startsAt and endsAt (Grafana retries a
 * notification it could not deliver; the next notification of the group differs in an alert's status or times).
 * Unknown extra fields are ignored; Grafana adds some over time.
 */

import { z } from 'zod';
import { alertItem, alertmanagerAlert, alertsHash, labelSet } from './alertmanager.js';
import type { HookItem, ParsedHook } from './items.js';

const url = z.string().max(2_048).default('');

const alert = alertmanagerAlert.extend({
  silenceURL: url,
  dashboardURL: url,
  panelURL: url,
  imageURL: url,
  // Grafana leaves a value out (or null) when its query returned nothing.
  values: z
    .record(z.string().min(1).max(128), z.number().nullable())
    .refine((o) => Object.keys(o).length <= 100, { message: 'at most 100 entries' })
    .nullish(),
  valueString: z.string().max(8_192).default(''),
});

export const grafanaBody = z.object({
  version: z.literal('1', { message: 'only version "1" of Grafana’s webhook body is understood' }),
  groupKey: z.string().min(1).max(4_096),
  truncatedAlerts: z.number().int().min(0).optional(),
  orgId: z.number().int().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(256),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: url,
  title: z.string().max(8_192).optional(),
  state: z.string().max(64).optional(),
  message: z.string().max(65_536).optional(),
  alerts: z.array(alert).min(1).max(10_000),
});
export type GrafanaBody = z.infer<typeof grafanaBody>;

/** The items of a validated body, and its dedupe key. */
export function grafanaItems(body: GrafanaBody): ParsedHook {
  const items: HookItem[] = body.alerts.map((a) => {
    const links: NonNullable<HookItem['links']> = {};
    if (a.dashboardURL) links.dashboard = a.dashboardURL;
    if (a.panelURL) links.panel = a.panelURL;
    if (a.silenceURL) links.silence = a.silenceURL;
    if (a.imageURL) links.image = a.imageURL;
    return {
      ...alertItem(a),
      links,
      ...(a.values ? { values: a.values } : {}),
      ...(a.valueString ? { valueString: a.valueString } : {}),
      source: {
        receiver: body.receiver,
        externalURL: body.externalURL,
        groupKey: body.groupKey,
        ...(body.orgId !== undefined ? { orgId: body.orgId } : {}),
      },
    };
  });
  const head = `${body.orgId ?? ''}\n${body.groupKey}\n${body.status}\n`;
  return { dedupKey: `grafana:${alertsHash(head, body.alerts)}`, items };
}

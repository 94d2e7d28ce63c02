/**
 * Shared set-up of the gateway tests: a hub on the emulator with hook routes, its HTTP app in-process (or on a
 * socket), and Alertmanager bodies built from the fixtures (test/fixtures/alertmanager/).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { CardRecord } from '../../src/emulator/types.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { createApp } from '../../src/server/app.js';
import { testConfig } from './hub-helpers.js';

export const HOOK_TOKEN = 'hook-token-0123456789abcdef';
export const HMAC_SECRET = 'hmac-secret-0123456789abcdef';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'alertmanager');

export interface AmAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AmBody {
  version: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AmAlert[];
  [k: string]: unknown;
}

export function fixture(name: 'firing' | 'resolved'): AmBody {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as AmBody;
}

/** One alert's notification, as Alertmanager would send it for a group of one. */
export function amBody(
  alerts: Array<Partial<AmAlert> & { name: string; fp: string }>,
  groupKey = 'g',
): AmBody {
  const base = fixture('firing');
  const list: AmAlert[] = alerts.map((a) => ({
    status: a.status ?? 'firing',
    labels: { alertname: a.name, severity: 'critical', ...(a.labels ?? {}) },
    annotations: a.annotations ?? { summary: `${a.name} summary` },
    startsAt: a.startsAt ?? '2026-12-05T02:00:00.000Z',
    endsAt: a.endsAt ?? (a.status === 'resolved' ? '2026-12-05T02:10:00.000Z' : '0001-01-01T00:00:00Z'),
    generatorURL: a.generatorURL ?? '',
    fingerprint: a.fp,
  }));
  return {
    ...base,
    groupKey,
    status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: list,
  };
}

/** A gateways config block: one Alertmanager route (bearer) to `ops`, critical ones with @all allowed. */
export function gatewayConfig(extra: Record<string, unknown> = {}, route: Record<string, unknown> = {}) {
  return testConfig({
    gateways: {
      flushMs: 20,
      flapWindowMs: 0,
      routes: [
        {
          name: 'am',
          kind: 'alertmanager',
          auth: { type: 'bearer', token: HOOK_TOKEN },
          rules: [
            { match: { severity: 'critical' }, targets: { groups: ['ops'] }, mentionAll: true },
            { matchRe: { service: 'web-.*' }, targets: { groups: ['engineering'] } },
          ],
          ...route,
        },
        {
          name: 'generic',
          kind: 'generic',
          auth: {
            type: 'hmac',
            secret: HMAC_SECRET,
            header: 'x-signature',
            prefix: 'sha256=',
            timestampHeader: 'x-timestamp',
          },
          targets: { groups: ['ops'] },
        },
      ],
      ...extra,
    },
  });
}

export function hookApp(hub: RunningHub<Emulator>) {
  const { app } = createApp({
    hub,
    tokens: new StoreTokenVerifier(new MemoryApiTokenStore(), { ttlMs: 0 }),
    metrics: hub.metrics,
    events: hub.events,
    hooks: hub.gateways,
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { app, post };
}

/** The alert cards (gateways/alert-cards.ts) the emulator holds in a conversation, by the alert's name. */
export function alertCards(emu: Emulator, conversation: string, name: string): CardRecord[] {
  return [...emu.state.cards.values()].filter(
    (c) =>
      c.outTrackId.startsWith('dingkit-alert-') &&
      c.spaceId === conversation &&
      c.cardParamMap['title'] === name,
  );
}

/** Alerts a group's messages account for: a digest says how many it carries, a single alert is one. */
export function accounted(emu: Emulator, conversation: string): { alerts: number; messages: number } {
  let alerts = 0;
  const msgs = emu.messages(conversation).filter((m) => m.source === 'custom_robot');
  for (const m of msgs) {
    const digest = /📋 (\d+) alerts/.exec(m.text);
    if (digest) alerts += Number(digest[1]);
    else if (m.text.includes('FIRING:')) alerts += 1;
  }
  return { alerts, messages: msgs.length };
}

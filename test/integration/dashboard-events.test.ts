/**
 * The dashboard hears every event of the hub's event map: in Debian's Chromium, one event of each type published
 * after the page went live shows in its event list, and the page registers a listener for exactly the map's names.
 * EventSource drops an event whose name has no listener (that is how `task.edited` once went unseen); the twin
 * publishes a name outside the map and shows it is dropped, so the check can fail. Skips without /usr/bin/chromium.
 */

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES, type HubEventName, type HubEvents } from '../../src/observe/event-map.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';
import { FakeHub } from '../support/fake-hub.js';

const hasChromium = chromiumOrSkip('dashboard events test');

/** One payload per event; a type added to the map does not compile here until it has one. */
const SAMPLES: { [K in HubEventName]: HubEvents[K] } = {
  'message.queued': { messageId: 'msg_1', target: 'ops', parts: 1, by: 'api:ci' },
  delivery: { id: 1, messageId: 'msg_1', status: 'sent', attempts: 1, target: 'ops', channel: 'robot' },
  'delivery.recipient': {
    id: 1,
    channel: 'notice',
    target: 'Alice',
    userId: 'alice',
    outcome: 'dropped',
    reasonCode: '143106',
  },
  'delivery.redriven': { count: 2, by: 'api:ops' },
  'delivery.resolved': { id: '7', action: 'drop', status: 'cancelled', by: 'api:ops' },
  'task.created': { id: 1, title: 'Ship it', state: 'open', by: 'api:ci' },
  'task.changed': { id: 1, state: 'in_progress', action: 'start', by: 'api:ci' },
  'task.edited': { id: 1, state: 'open', by: 'api:ci', fields: ['title'] },
  'task.todo': { id: 1, assignee: 'alice', todoId: 'todo-1' },
  'task.reminded': { id: 1 },
  'task.escalated': { id: 1 },
  'file.shared': { id: 'f1', fileName: 'notes.txt', target: 'ops', channel: 'app', by: 'api:ci' },
  'inbound.command': { kind: 'list', by: 'Alice' },
};

let hub: FakeHub;
let server: ApiServer;
let browser: Browser;
let token = '';

describe.skipIf(!hasChromium)('dashboard and the event map', () => {
  beforeAll(async () => {
    hub = new FakeHub();
    const store = new MemoryApiTokenStore();
    token = (await createApiToken(store, 'viewer', ['read'])).token;
    server = await createApiServer(hub, {
      tokens: new StoreTokenVerifier(store, { ttlMs: 0 }),
      events: hub.events,
      sse: { heartbeatMs: 1_000 },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('listens for every name of the map and shows one live event of each; a name outside it is dropped', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Records what the page's own script registers (init scripts run outside the page's CSP).
    await page.addInitScript(`
      window.listened = [];
      const add = EventSource.prototype.addEventListener;
      EventSource.prototype.addEventListener = function (...args) {
        window.listened.push(String(args[0]));
        return add.apply(this, args);
      };
    `);
    await page.goto(`${server.url}/`);
    await page.locator('#token').fill(token);
    await page.locator('#login-form button').click();
    await expect.poll(() => page.locator('#live-text').textContent(), { timeout: 10_000 }).toBe('live');
    const listened = (await page.evaluate('window.listened')) as string[];
    expect([...listened].sort()).toEqual([...EVENT_NAMES].sort());

    const shown = () => page.locator('#events .k').allTextContents();
    // Not in the map, so only a cast lets it through: the page has no listener and never sees it.
    hub.events.publish('task.done' as HubEventName, { id: 1 } as HubEvents[HubEventName]);
    for (const name of EVENT_NAMES) hub.events.publish(name, SAMPLES[name]);
    await expect.poll(async () => (await shown()).length, { timeout: 10_000 }).toBe(EVENT_NAMES.length);
    // Newest first in the list; all arrived live, after the page had loaded its snapshot.
    expect([...(await shown())].reverse()).toEqual([...EVENT_NAMES]);
    expect(await shown()).not.toContain('task.done');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});

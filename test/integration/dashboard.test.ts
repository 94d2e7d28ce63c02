/**
 * The live dashboard in a real browser (Debian's Chromium driven by playwright-core) against the API server over
 * a FakeHub: token prompt, live updates over SSE, dead letters and redrive, sign-out; the token is never shown.
 * Skips with a message when /usr/bin/chromium is absent (CI: `apt-get install -y chromium`).
 */

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';
import { FakeHub } from '../support/fake-hub.js';

const hasChromium = chromiumOrSkip('dashboard browser test');

let hub: FakeHub;
let server: ApiServer;
let browser: Browser;
let token = '';
let readToken = '';

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  beforeAll(async () => {
    hub = new FakeHub();
    hub.timeZone = 'Asia/Shanghai';
    hub.receivers = [
      { name: 'http', state: 'ready', routes: ['/callbacks/robot'] },
      { name: 'stream', state: 'connecting' },
    ];
    const store = new MemoryApiTokenStore();
    token = (await createApiToken(store, 'dash', ['admin'])).token;
    readToken = (await createApiToken(store, 'viewer', ['read'])).token;
    server = await createApiServer(hub, {
      tokens: new StoreTokenVerifier(store, { ttlMs: 0 }),
      events: hub.events,
      sse: { heartbeatMs: 1_000 },
    });
    await hub.assignTask(
      {
        title: 'Prepare the release notes',
        assignees: ['Alice', 'Bob'],
        group: 'ops',
        due: '2026-12-01T10:00:00Z',
        priority: 'high',
      },
      { by: 'api:seed' },
    );
    await hub.sendMessage({ group: 'ops', text: 'deploy finished' }, { by: 'api:seed' });
    hub.addDead('dev', 'ROBOT_SECURITY: keywords not in content');
    hub.events.publish('inbound.command', { kind: 'transition', by: 'Alice', taskId: 1, action: 'start' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signIn(page: Page, t: string) {
    await page.goto(`${server.url}/`);
    await page.locator('#token').fill(t);
    await page.locator('#login-form button').click();
  }

  it('asks for a token, refuses a wrong one, then shows tasks, deliveries, commands and events', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, 'dk_not_a_real_token_at_all');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('refused');
    expect(await page.locator('#app').isHidden()).toBe(true);

    await page.locator('#token').fill(token);
    await page.locator('#login-form button').click();
    await page.locator('#tasks tr').first().waitFor();
    expect(await page.locator('#tasks').textContent()).toContain('Prepare the release notes');
    // The due time (10:00Z) in the hub's zone, the zone marked; and the zone named in the header.
    await expect.poll(() => page.locator('#tasks').textContent()).toContain('12-01 18:00 (UTC+08:00)');
    expect(await page.locator('#tasks td.num[title]').first().getAttribute('title')).toBe(
      '2026-12-01 18:00 (UTC+08:00)',
    );
    expect(await page.locator('#meta').textContent()).toContain('Asia/Shanghai');
    // One pill per receiver of inbound.mode (the health report's `receivers`).
    expect(await page.locator('#meta .pill').allTextContents()).toEqual(
      expect.arrayContaining(['http ready', 'stream connecting']),
    );
    expect(await page.locator('#events').textContent()).toMatch(/\d{2}:\d{2}:\d{2} \(UTC\+08:00\)/);
    expect(await page.locator('#deliveries').textContent()).toContain('ops');
    expect(await page.locator('#commands').textContent()).toContain('Alice: start #1');
    await expect.poll(() => page.locator('#live-text').textContent()).toBe('live');

    // Live: a task assigned and a message sent after the page loaded appear without a reload.
    await hub.assignTask({ title: 'Rotate the on-call', assignees: ['Bob'] }, { by: 'api:ops' });
    await hub.sendMessage({ to: ['Alice'], text: 'hello' }, { by: 'api:ops' });
    hub.events.publish('inbound.command', { kind: 'transition', by: 'Bob', taskId: 2, action: 'done' });
    await expect
      .poll(() => page.locator('#tasks').textContent(), { timeout: 10_000 })
      .toContain('Rotate the on-call');
    await expect.poll(() => page.locator('#commands').textContent()).toContain('Bob: done #2');
    await expect.poll(() => page.locator('#events').textContent()).toContain('message.queued');
    await expect.poll(() => page.locator('#deliveries tr').count()).toBe(3);

    const dir = process.env['DINGKIT_SCREENSHOT_DIR'] ?? join(tmpdir(), 'dingkit-screens');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });

    // Dead letters, redrive.
    await page.locator('#tab-dead').click();
    await expect.poll(() => page.locator('#deliveries').textContent()).toContain('keywords not in content');
    await page.locator('#redrive').click();
    await expect.poll(() => page.locator('#deliveries-error').textContent()).toContain('1 back in the queue');
    await expect.poll(() => page.locator('#deliveries').textContent()).toContain('No dead letters');

    // The token is never rendered; the page keeps it for the tab only.
    expect(await page.content()).not.toContain(token);
    expect(await page.evaluate('sessionStorage.getItem("dingkit.token")')).toBe(token);
    expect(await page.evaluate('localStorage.length')).toBe(0);

    await page.reload();
    await page.locator('#tasks tr').first().waitFor();
    expect(await page.locator('#app').isVisible()).toBe(true);
    await page.locator('#signout').click();
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.evaluate('sessionStorage.getItem("dingkit.token")')).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('moves a task from its row; a read-only token is told why it cannot', async () => {
    const t = await hub.assignTask({ title: 'Click me', assignees: ['Bob'] }, { by: 'api:seed' });
    const page = await browser.newPage();
    await signIn(page, token);
    const done = page.locator(`button[data-task="${t.id}"][data-action="done"]`);
    await done.waitFor();
    await done.click();
    await expect.poll(() => hub.tasks.get(t.id)?.state).toBe('done');
    await expect.poll(() => page.locator(`button[data-task="${t.id}"]`).count()).toBe(0);
    expect(hub.tasks.get(t.id)?.history.at(-1)).toMatchObject({ kind: 'done', by: 'api:dash' });
    await page.close();

    const t2 = await hub.assignTask({ title: 'Not for readers', assignees: ['Bob'] }, { by: 'api:seed' });
    const viewer = await browser.newPage();
    await signIn(viewer, readToken);
    const start = viewer.locator(`button[data-task="${t2.id}"][data-action="start"]`);
    await start.waitFor();
    await start.click();
    await expect.poll(() => viewer.locator('#tasks-error').textContent()).toContain('"send" scope');
    expect(hub.tasks.get(t2.id)?.state).toBe('open');
    await viewer.close();
  }, 60_000);

  it('renames an open task from its row (PATCH), and offers no edit on a closed one', async () => {
    const t = await hub.assignTask({ title: 'Old name', assignees: ['Bob'] }, { by: 'api:seed' });
    const page = await browser.newPage();
    await signIn(page, token);
    const edit = page.locator(`button[data-task="${t.id}"][data-action="edit"]`);
    await edit.waitFor();
    page.once('dialog', (d) => void d.accept('  New name  '));
    await edit.click();
    await expect.poll(() => hub.tasks.get(t.id)?.title).toBe('New name');
    expect(hub.tasks.get(t.id)?.history.at(-1)).toMatchObject({ kind: 'edited', by: 'api:dash' });
    await expect.poll(() => page.locator('#tasks').textContent()).toContain('New name');
    // Dismissing the prompt sends nothing.
    const calls = hub.calls.length;
    page.once('dialog', (d) => void d.dismiss());
    await edit.click();
    await new Promise((r) => setTimeout(r, 200));
    expect(hub.calls.slice(calls).filter((c) => c.method === 'updateTask')).toEqual([]);
    await hub.actOnTask(t.id, 'done', { by: 'api:seed' });
    await page.reload();
    await page.locator('#tasks tr').first().waitFor();
    expect(await page.locator(`button[data-task="${t.id}"][data-action="edit"]`).count()).toBe(0);
    await page.close();
  }, 60_000);

  it('shows what DingTalk reported for each recipient: a badge on the row, the Dropped view, the detail as text', async () => {
    const d = hub.addDead('Li Si', 'x');
    Object.assign(d, { status: 'sent', channel: 'notice', lastError: undefined, remoteId: '256271667504' });
    d.recipients = { pending: 0, delivered: 0, read: 0, dropped: 1 };
    hub.details.set(d.id, {
      ...d,
      messageId: 'msg_9',
      people: [
        {
          userId: 'lisi',
          outcome: 'dropped',
          reasonCode: '143106',
          // A reason is stored text: it must render as text.
          reason:
            'duplicate: the app already sent this user the same content today <img src=x onerror="window.__pwned=1">',
          updatedAt: '2026-12-01T10:00:00.000Z',
          fallbackDeliveryId: '42',
        },
      ],
      check: { kind: 'notice', asked: 1, doneAt: '2026-12-01T10:00:00.000Z' },
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, readToken);
    await page.locator('#tab-dropped').click();
    const open = page.locator(`button[data-recipients="${d.id}"]`);
    await open.waitFor();
    expect(await open.textContent()).toBe('1 dropped');
    // Only the delivery with a drop is in this view.
    expect(await page.locator('#deliveries > tr').count()).toBe(1);
    expect(hub.calls.findLast((c) => c.method === 'listDeliveries')?.args[0]).toMatchObject({
      dropped: true,
    });
    await open.click();
    const detail = page.locator(`tr[data-detail="${d.id}"]`);
    await detail.waitFor();
    const text = await detail.textContent();
    expect(text).toContain('lisi');
    expect(text).toContain('143106');
    expect(text).toContain('same content today');
    expect(text).toContain('#42');
    expect(text).toContain('Asked DingTalk 1 time; done');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await detail.locator('img').count()).toBe(0);
    const dir = process.env['DINGKIT_SCREENSHOT_DIR'] ?? join(tmpdir(), 'dingkit-screens');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'dashboard-dropped.png'), fullPage: true });
    // A second click closes it.
    await open.click();
    await expect.poll(() => detail.count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('renders hub data as text, never as HTML', async () => {
    await hub.assignTask(
      { title: '<img src=x onerror="window.__pwned=1">', assignees: ['Alice'] },
      { by: 'api:x' },
    );
    const page = await browser.newPage();
    await signIn(page, readToken);
    await expect.poll(() => page.locator('#tasks').textContent()).toContain('<img src=x');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('#tasks img').count()).toBe(0);
    await page.close();
  }, 60_000);
});

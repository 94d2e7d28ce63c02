/**
 * Attacks on the emulated DingTalk client (`/_emulator/client/`), run in Chromium as they would be:
 * - markup planted in everything the client draws (a person's name, a group's name, text and markdown messages,
 *   an action card's button URL, an interactive card's title, a file's name, a work notice, a Todo's subject and
 *   detailUrl): `<img onerror>`, `<svg onload>` and `javascript:` links must never run — each would set
 *   `window.__pwned` — and are shown as the characters they are;
 * - a page on another origin: posting as a person through the control API (no-cors text/plain, CORS JSON, a form),
 *   reading the client's view, framing the client, and asking the client for a 免登 code through `postMessage`
 *   from a window it opened. None works.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeMessage } from '../../src/api/notice/notice-messages.js';
import { DEMO_CORP_ID, demoOrg, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { APP, clientFor, ENG } from '../integration/api-support.js';
import { call } from '../integration/emulator-http.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';
import { waitFor } from '../support/wait-for.js';

const hasChromium = chromiumOrSkip('emulated client XSS test');

const IMG = (tag: string) => `<img src=x onerror="window.__pwned='${tag}'">`;
const EVIL_NAME = `${IMG('name')}Mallory`;
const EVIL_GROUP = `<script>window.__pwned='group'</script>研发 ${IMG('group')}`;

let emu: Emulator;
let browser: Browser;
let evil: Server;
let evilOrigin = '';

function fixture() {
  const f = demoOrg();
  f.org.users.push({
    userId: 'mallory',
    unionId: 'unionMallory00006',
    mobile: '13800000006',
    name: EVIL_NAME,
  });
  const eng = f.org.groups[0]!;
  eng.name = EVIL_GROUP;
  eng.members.push('mallory');
  // A custom robot in the engineering group, for hostile webhook messages.
  f.org.customRobots.push({
    name: 'evil',
    token: 'e'.repeat(64),
    group: eng.openConversationId,
    security: { keywords: ['x'] },
  });
  f.records = {
    todos: [
      {
        id: 'todo-evil',
        owner: 'unionMallory00006',
        subject: `${IMG('todo')}待办`,
        done: false,
        executorIds: ['unionMallory00006'],
        participantIds: [],
        detailUrl: { appUrl: "javascript:window.__pwned='todo-url'" },
        creatorId: 'unionMallory00006',
        modifierId: 'unionMallory00006',
        createdTime: 1,
        modifiedTime: 1,
        bizTag: 'test',
      },
    ],
  };
  return f;
}

async function webhook(body: unknown): Promise<void> {
  const r = await fetch(emu.webhookUrl('evil'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(((await r.json()) as { errcode: number }).errcode).toBe(0);
}

async function pwned(page: Page): Promise<unknown> {
  return page.evaluate('window.__pwned');
}

describe.skipIf(!hasChromium)('the emulated client against planted markup and foreign pages', () => {
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, fixture: fixture() });
    await webhook({
      msgtype: 'text',
      text: { content: `x <svg onload="window.__pwned='text'"></svg> ${IMG('text')}` },
    });
    await webhook({
      msgtype: 'markdown',
      markdown: {
        title: 'x',
        text: `### x ${IMG('h3')}\n**${IMG('bold')}** [点我](javascript:window.__pwned='link') ![图](javascript:window.__pwned='img')\n> <a href="javascript:window.__pwned='a'">a</a>`,
      },
    });
    await webhook({
      msgtype: 'actionCard',
      actionCard: {
        title: `x ${IMG('title')}`,
        text: 'x',
        btns: [{ title: `${IMG('btn')}去看看`, actionURL: "javascript:window.__pwned='btn'" }],
      },
    });
    const dt = clientFor(emu);
    await dt.card.createAndDeliver({
      cardTemplateId: 'tpl',
      outTrackId: 'card-evil',
      cardData: { title: IMG('card'), content: IMG('card-content'), [IMG('key')]: IMG('value') },
      to: { group: ENG, robotCode: APP.robotCode },
    });
    emu.postDirect('mallory', {
      file: { contentBase64: Buffer.from('x').toString('base64'), fileName: `${IMG('file')}.pdf` },
    });
    await dt.notice.send({
      userIds: ['mallory'],
      message: noticeMessage.markdown('x', `${IMG('notice')} **n**`),
    });

    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html;charset=utf-8');
      res.end('<!doctype html><html><body><p id="out">evil</p></body></html>');
    });
    evil.listen(0, '127.0.0.1');
    await new Promise((r) => evil.once('listening', r));
    evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await emu?.close();
    await new Promise((r) => evil?.close(r));
  });

  it('the page is served with a policy that allows no inline script and no framing', async () => {
    const r = await fetch(`${emu.url}/_emulator/client/`);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });

  it("the client's routes keep the control API's door: a foreign Origin or a rebinding Host is refused", async () => {
    for (const path of [
      '/_emulator/client/',
      '/_emulator/client/view?user=alice',
      '/_emulator/client/app.js',
    ]) {
      expect(
        (await call(`${emu.url}${path}`, { method: 'GET', headers: { origin: 'http://evil.example' } }))
          .status,
      ).toBe(403);
      expect(
        (await call(`${emu.url}${path}`, { method: 'GET', headers: { host: 'evil.example' } })).status,
      ).toBe(403);
      expect((await call(`${emu.url}${path}`, { method: 'GET' })).status).toBe(200);
    }
  });

  it('markup in names, messages, cards, files, notices and Todos is shown as text and never runs', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${emu.url}/_emulator/client/`);
    const me = page.locator('#people button[data-user="mallory"]');
    expect(await me.textContent()).toContain(EVIL_NAME);
    await me.click();
    await page.locator(`#chats button[data-conv="g:${ENG}"]`).click();
    await page.locator('#messages [data-card="card-evil"]').waitFor();
    const messages = page.locator('#messages');
    expect(await page.locator('#chat-title').textContent()).toBe(EVIL_GROUP);
    const text = (await messages.textContent()) ?? '';
    for (const tag of ['text', 'h3', 'bold', 'title', 'btn', 'card', 'card-content', 'key', 'value']) {
      expect(text).toContain(IMG(tag));
    }
    // Nothing became an element: no image, no svg, no script, no javascript: link, in the whole page.
    expect(await page.locator('#messages img, #messages svg, #messages script, #chats img').count()).toBe(0);
    expect(await page.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await messages.locator('a').count()).toBe(0);
    // The refused link is plain text; the button with a javascript: URL is disabled (and does nothing if forced).
    await messages.getByText('点我').click();
    const btn = messages.locator('button', { hasText: '去看看' });
    expect(await btn.isDisabled()).toBe(true);
    await btn.click({ force: true });

    await page.locator('#chats button[data-conv="oto"]').click();
    const file = page.locator('#messages .bubble.file');
    await file.waitFor();
    expect(await file.locator('.card-title').textContent()).toBe(`${IMG('file')}.pdf`);
    await page.locator('#chats button[data-conv="notices"]').click();
    await page.locator('#messages li[data-notice]').waitFor();
    expect(await page.locator('#messages').textContent()).toContain(IMG('notice'));

    await page.locator('.tab[data-tab="todos"]').click();
    const todo = page.locator('#todo-list li[data-todo="todo-evil"]');
    await todo.waitFor();
    expect(await todo.textContent()).toContain(IMG('todo'));
    await todo.locator('button.open').click();
    // A javascript: detailUrl opens nothing.
    expect(await page.locator('#phone').isHidden()).toBe(true);
    await page.waitForTimeout(300);
    expect(await pwned(page)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a page on another origin cannot post as a person, read the view, frame the client, or get a 免登 code', async () => {
    const context = await browser.newContext();
    // The developer has the client open and has chosen a person (remembered in the client's origin).
    const client = await context.newPage();
    await client.goto(`${emu.url}/_emulator/client/`);
    await client.locator('#people button[data-user="alice"]').click();
    await client.locator('#chats button').first().waitFor();

    const issued: string[] = [];
    const signIn = emu.state.signIn;
    const issue = signIn.issueCode.bind(signIn);
    signIn.issueCode = (...a: Parameters<typeof issue>) => {
      issued.push(a[1]);
      return issue(...a);
    };
    const before = emu.messages(ENG).length;
    const page = await context.newPage();
    await page.goto(`${evilOrigin}/`);
    const post = `${emu.url}/_emulator/groups/${encodeURIComponent(ENG)}/messages`;
    const outcome = (await page.evaluate(
      `(async () => {
        const body = JSON.stringify({ from: 'alice', text: 'cancel everything', atBot: true });
        const out = {};
        await fetch(${JSON.stringify(post)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body });
        try {
          const r = await fetch(${JSON.stringify(post)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          out.json = r.status;
        } catch (e) { out.json = 'blocked'; }
        try {
          const r = await fetch(${JSON.stringify(`${emu.url}/_emulator/client/view?user=alice`)});
          out.view = await r.text();
        } catch (e) { out.view = 'blocked'; }
        const f = document.createElement('form');
        f.method = 'POST';
        f.action = ${JSON.stringify(post)};
        f.enctype = 'text/plain';
        f.target = 'sink';
        const i = document.createElement('input');
        i.name = body;
        f.appendChild(i);
        const sink = document.createElement('iframe');
        sink.name = 'sink';
        document.body.appendChild(sink);
        document.body.appendChild(f);
        f.submit();
        return out;
      })()`,
    )) as { json: unknown; view: string };
    expect(outcome.json).toBe('blocked');
    expect(outcome.view).toBe('blocked');
    await page.waitForTimeout(500);
    expect(emu.messages(ENG).length).toBe(before);

    // Framing the client: refused by the browser (frame-ancestors 'none'), so nothing of it renders.
    await page.evaluate(
      `(() => { const f = document.createElement('iframe'); f.id = 'framed'; f.src = ${JSON.stringify(`${emu.url}/_emulator/client/`)}; document.body.appendChild(f); })()`,
    );
    await page.waitForTimeout(1_500);
    const framed = page.frames().find((fr) => fr !== page.mainFrame() && fr.name() !== 'sink');
    expect(framed).toBeDefined();
    expect(await framed!.locator('#people button, #chats button').count()).toBe(0);
    // (The same page, not framed, does render: the check above can fail.)
    expect(await client.locator('#chats button').count()).toBeGreaterThan(0);

    // A window the foreign page opened on the client asks it for a code: the client answers only its own frame.
    const answer = (await page.evaluate(
      `new Promise((resolve) => {
        const w = window.open(${JSON.stringify(`${emu.url}/_emulator/client/`)}, 'client');
        let got = 'none';
        window.addEventListener('message', (ev) => { got = JSON.stringify(ev.data); });
        setTimeout(() => {
          w.postMessage({ type: 'dingkit-emulator:requestAuthCode', corpId: ${JSON.stringify(DEMO_CORP_ID)}, clientId: ${JSON.stringify(APP.appKey)} }, '*');
        }, 1500);
        setTimeout(() => resolve(got), 3000);
      })`,
    )) as string;
    expect(answer).toBe('none');
    expect(issued).toEqual([]);
    // Twin: the control route the client would call does issue codes (the counter above can see one).
    await waitFor(async () => {
      const r = await fetch(`${emu.url}/_emulator/users/alice/auth-code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appKey: APP.appKey }),
      });
      return r.ok ? true : undefined;
    });
    expect(issued).toEqual(['alice']);
    await context.close();
  });
});

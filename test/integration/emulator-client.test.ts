/**
 * The emulated DingTalk client (`/_emulator/client/`) in Chromium against a real hub and its built-in emulator:
 * choose a person, read a group with a real @ and a text-only one told apart, write `@bot tasks` and see the hub's
 * answer arrive without a reload, tick a Todo, click an interactive card (delivered through the library), download
 * a shared file, read a work notice, and open a Todo's page in the phone frame, where a page of another loopback
 * origin asks for a 免登 code, gets one for the chosen person and trades it through `dt.auth.userByCode`; a frame
 * nested inside it (a foreign origin) asks too and gets nothing. Screenshots at 390 and 1280 px go to
 * test-artifacts/emulator-client/.
 */

import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeMessage } from '../../src/api/notice/notice-messages.js';
import type { DingTalk } from '../../src/client.js';
import { DEMO_CORP_ID, type Emulator } from '../../src/emulator/index.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { parseCardAction, StreamClient } from '../../src/stream/index.js';
import {
  backends,
  type HubFixture,
  OPS,
  PRODUCT,
  startTestHub,
  testConfig,
  waitFor,
} from '../e2e/hub-helpers.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';
import { APP, clientFor } from './api-support.js';

const hasChromium = chromiumOrSkip('emulated client browser test');
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'emulator-client');

let f: HubFixture;
let hub: RunningHub<Emulator>;
let emu: Emulator;
let dt: DingTalk;
let browser: Browser;
let people: Server;
let peopleOrigin = '';
let taskId = 0;
/** The work notice alice reads in the client: its send result says when she has. */
let noticeTask = { taskId: '' };
const exchanges: Array<{ userId?: string; name?: string; error?: string }> = [];

/** The hub's people app stand-in: asks its parent for a 免登 code and trades it on its own server. */
function appPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>people app</title></head><body>
<h1>任务详情</h1><pre id="result">waiting</pre>
<iframe id="foreign" src="${peopleOrigin.replace('127.0.0.1', 'localhost')}/foreign" width="300" height="80"></iframe>
<script>
window.addEventListener('message', function (ev) {
  var d = ev.data || {};
  if (d.type === 'dingkit-emulator:authCode') {
    fetch('/exchange', { method: 'POST', body: d.code }).then(function (r) { return r.text(); })
      .then(function (t) { document.getElementById('result').textContent = t; });
  } else if (d.type === 'dingkit-emulator:authCodeError') {
    document.getElementById('result').textContent = 'error: ' + d.reason;
  }
});
parent.postMessage({ type: 'dingkit-emulator:requestAuthCode', corpId: ${JSON.stringify(DEMO_CORP_ID)}, clientId: ${JSON.stringify(APP.appKey)} }, '*');
</script></body></html>`;
}

/** A frame of another origin inside the app page: it asks the client directly and records what comes back. */
const FOREIGN = `<!doctype html><html><body><span id="got">none</span><script>
window.addEventListener('message', function (ev) {
  document.getElementById('got').textContent = JSON.stringify(ev.data);
});
window.top.postMessage({ type: 'dingkit-emulator:requestAuthCode', corpId: ${JSON.stringify(DEMO_CORP_ID)}, clientId: ${JSON.stringify(APP.appKey)} }, '*');
window.parent.postMessage({ type: 'dingkit-emulator:requestAuthCode', corpId: ${JSON.stringify(DEMO_CORP_ID)}, clientId: ${JSON.stringify(APP.appKey)} }, '*');
</script></body></html>`;

async function startPeopleApp(): Promise<void> {
  people = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/exchange') {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        dt.auth.userByCode(body).then(
          (u) => {
            exchanges.push({ userId: u.userId, name: u.name });
            res.end(JSON.stringify({ userId: u.userId, name: u.name }));
          },
          (e: Error) => {
            exchanges.push({ error: e.message });
            res.end(JSON.stringify({ error: e.message }));
          },
        );
      });
      return;
    }
    res.setHeader('content-type', 'text/html;charset=utf-8');
    res.end(req.url === '/foreign' ? FOREIGN : appPage());
  });
  people.listen(0, '127.0.0.1');
  await new Promise((r) => people.once('listening', r));
  peopleOrigin = `http://127.0.0.1:${(people.address() as AddressInfo).port}`;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

async function choose(page: Page, userId: string): Promise<void> {
  await page.goto(`${emu.url}/_emulator/client/`);
  await page.locator(`#people button[data-user="${userId}"]`).click();
  await page.locator('#chats button').first().waitFor();
}

// Each test drives many browser, emulator and hub steps; on a loaded CI machine 30 s was too few for some (a
// different one each time). A step that hangs fails on its own after 20 s, naming what it waited for.
describe.skipIf(!hasChromium)('the emulated DingTalk client in Chromium', { timeout: 60_000 }, () => {
  const newPage = async (o: Parameters<Browser['newPage']>[0]) => {
    const page = await browser.newPage(o);
    page.setDefaultTimeout(20_000);
    return page;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await startPeopleApp();
    f = await startTestHub(backends[0]!, {
      config: testConfig({
        tasks: {
          pollMs: 20,
          remindBeforeMs: 0,
          escalateAfterMs: 0,
          detailUrl: `${peopleOrigin}/app/tasks/{id}`,
          // The card test below clicks a card of its own and receives it on its own Stream connection: with the
          // hub's task cards on, the hub's connection subscribes to card clicks too and DingTalk (the emulator)
          // hands each click to one of the two at random (§S6). Task cards have their own browser test.
          cards: { enabled: false },
        },
      }),
    });
    hub = f.hub;
    emu = hub.emulator!;
    dt = clientFor(emu);
    emu.state.apps.get(APP.appKey)!.homepageUrl = `${peopleOrigin}/app/`;
    const task = await hub.assignTask(
      {
        title: '发布 2.0 Ship',
        description: '写发布说明',
        assignees: ['Alice Chen', 'Bob Li'],
        group: 'ops',
      },
      { by: 'test' },
    );
    taskId = task.id;
    await waitFor(() =>
      emu.todos().filter((t) => t.subject.includes('发布 2.0')).length === 2 ? true : undefined,
    );
    // A custom robot @-mentions Alice for real (her mobile in `at`) and names Bob only in the text.
    const r = await fetch(emu.webhookUrl('alerts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        msgtype: 'markdown',
        markdown: {
          title: '告警',
          text: '### 磁盘告警 Disk\n**db-1** 使用率 *91%*\n- 请 @13800000004 处理\n- cc @Bob Li\n> 来自 [监控](http://127.0.0.1:9/grafana)',
        },
        at: { atMobiles: ['13800000004'] },
      }),
    });
    expect(((await r.json()) as { errcode: number }).errcode).toBe(0);
    // An action card whose button opens a loopback page (it opens in the phone frame) and one that opens elsewhere.
    const card = await fetch(emu.webhookUrl('news'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        msgtype: 'actionCard',
        actionCard: {
          title: '发布通知 notice',
          text: '## 2.0 已发布\n请查看 *发布说明*',
          btnOrientation: '1',
          btns: [
            {
              title: '打开应用',
              actionURL: `dingtalk://dingtalkclient/page/link?url=${encodeURIComponent(`${peopleOrigin}/app/`)}&pc_slide=true`,
            },
            { title: '外部链接', actionURL: 'https://example.invalid/notes' },
          ],
        },
      }),
    });
    expect(((await card.json()) as { errcode: number }).errcode).toBe(0);
    await dt.card.createAndDeliver({
      cardTemplateId: 'dingkit.approval',
      outTrackId: 'card-approve-1',
      cardData: {
        title: '审批: 上线 2.0',
        content: '**Alice** 请审批',
        buttons: JSON.stringify([
          { id: 'approve', text: '同意' },
          { id: 'reject', text: '拒绝' },
        ]),
      },
      to: { group: OPS, robotCode: APP.robotCode },
      callbackType: 'STREAM',
    });
    await hub.shareFile(
      { group: 'ops', content: Buffer.from('%PDF-1.4 checklist'), fileName: '发布清单.pdf', comment: '清单' },
      { by: 'test' },
    );
    noticeTask = await dt.notice.send({
      userIds: ['alice'],
      message: noticeMessage.markdown('周报', '## 本周\n- 完成 **2.0**\n\n1. 写说明\n2. 发布'),
    });
    await waitFor(() => emu.messages(OPS).find((m) => m.type === 'sampleFile'));
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await f?.cleanup();
    await new Promise((r) => people?.close(r));
  });

  it('choose a person, then read a group: a real @ is marked notified, a text-only @ is not', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${emu.url}/_emulator/client/`);
    await shot(page, 'choose-1280');
    await page.locator('#people button[data-user="alice"]').click();
    // Unread until opened; opening reads them, as the app robot's read status sees (§3.1).
    const unread = Number(await page.locator(`#chats button[data-conv="g:${OPS}"] .unread`).textContent());
    expect(unread).toBe(emu.messages(OPS).filter((m) => !m.readBy.includes('alice')).length);
    expect(unread).toBeGreaterThan(0);
    await page.locator(`#chats button[data-conv="g:${OPS}"]`).click();
    const alert = page.locator('#messages li', { hasText: '磁盘告警' });
    await alert.waitFor();
    await waitFor(() => (emu.messages(OPS).every((m) => m.readBy.includes('alice')) ? true : undefined));
    expect(await alert.locator('h3').textContent()).toBe('磁盘告警 Disk');
    expect(await alert.locator('strong').first().textContent()).toBe('db-1');
    const aliceAt = alert.locator('.mention[data-user="alice"]');
    expect(await aliceAt.textContent()).toBe('@Alice Chen');
    expect(await aliceAt.getAttribute('data-notified')).toBe('true');
    const bobAt = alert.locator('.mention[data-user="bob"]');
    expect(await bobAt.textContent()).toBe('@Bob Li');
    expect(await bobAt.getAttribute('data-notified')).toBe('false');
    // The file message: name, size, and a download that gives the bytes.
    const file = page.locator('#messages .bubble.file', { hasText: '发布清单.pdf' });
    await file.waitFor();
    expect(await file.locator('.sub').first().textContent()).toBe('18 B');
    const href = await file.locator('a').getAttribute('href');
    const got = await page.evaluate((u) => fetch(u).then((r) => r.text()), href!);
    expect(got).toBe('%PDF-1.4 checklist');
    // Remembered in the page: a reload keeps the person.
    await page.reload();
    await page.locator('#chats button').first().waitFor();
    expect(await page.locator('#who').textContent()).toBe('Alice Chen');
    await page.locator(`#chats button[data-conv="g:${OPS}"]`).click();
    await alert.waitFor();
    await shot(page, 'group-1280');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('types "@bot tasks" as the person and the hub\'s answer appears without a reload', async () => {
    const page = await newPage({ viewport: { width: 390, height: 844 } });
    await choose(page, 'alice');
    await page.locator(`#chats button[data-conv="g:${OPS}"]`).click();
    const before = emu.messages(OPS).length;
    await page.locator('#compose-text').fill('@bot tasks');
    await page.locator('#composer button').click();
    // Posted as Alice, at the bot, with the prefix stripped as DingTalk strips the @robot.
    const sent = await waitFor(() =>
      emu
        .messages(OPS)
        .slice(before)
        .find((m) => m.from === 'alice'),
    );
    expect(sent.text).toBe('tasks');
    expect(sent.atBot).toBe(APP.robotCode);
    const answer = await waitFor(() =>
      emu.messages(OPS).find((m) => m.seq > sent.seq && m.source !== 'user' && m.text.includes(`#${taskId}`)),
    );
    await page.locator(`#messages li[data-seq="${answer.seq}"]`).waitFor({ timeout: 10_000 });
    const mine = page.locator(`#messages li.mine[data-seq="${sent.seq}"]`);
    expect(await mine.locator('.mention').first().textContent()).toBe('@Dingkit Hub');
    await shot(page, 'group-390');
    // No horizontal scroll at 390 px (and at 360 px).
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await page.close();
  });

  it('clicks an interactive card button: the card callback goes to the app', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 860 } });
    await choose(page, 'alice');
    await page.locator(`#chats button[data-conv="g:${OPS}"]`).click();
    const card = page.locator('#messages [data-card="card-approve-1"]');
    await card.waitFor();
    expect(await card.locator('.card-title').textContent()).toBe('审批: 上线 2.0');
    // The app's card handler: the library's Stream client, the only one subscribed to card callbacks (cards off above).
    const got: Array<{ outTrackId: string; userId: string; actions: string[] }> = [];
    const stream = new StreamClient({
      clientId: APP.appKey,
      clientSecret: APP.appSecret,
      env: { DINGTALK_API_BASE: emu.url },
      pingIntervalMs: 0,
    });
    stream.onCardAction((cb) => {
      got.push({
        outTrackId: cb.outTrackId,
        userId: cb.userId,
        actions: parseCardAction(cb)?.actionIds ?? [],
      });
      return {};
    });
    await stream.start();
    try {
      const [request] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith('/_emulator/cards/card-approve-1/click')),
        card.locator('button[data-action="approve"]').click(),
      ]);
      expect(JSON.parse(request.postData() ?? '{}')).toEqual({
        by: 'alice',
        actionIds: ['approve'],
        params: {},
      });
      const cb = await waitFor(() => got[0]);
      expect(cb).toEqual({ outTrackId: 'card-approve-1', userId: 'alice', actions: ['approve'] });
      expect(emu.state.cards.get('card-approve-1')!.clicks).toBe(1);
      await expect.poll(() => card.locator('.sub').last().textContent(), { timeout: 5_000 }).toContain('1');
    } finally {
      await stream.stop();
    }
    await page.close();
  });

  it("an action card's button opens its page: a dingtalk:// page link opens the page it carries in the phone frame", async () => {
    const page = await newPage({ viewport: { width: 1280, height: 860 } });
    await choose(page, 'alice');
    await page.locator(`#chats button[data-conv="g:${PRODUCT}"]`).click();
    const card = page.locator('#messages li', { hasText: '发布通知 notice' });
    await card.waitFor();
    expect(await card.locator('h2').textContent()).toBe('2.0 已发布');
    expect(await card.locator('em').textContent()).toBe('发布说明');
    await card.locator('button', { hasText: '打开应用' }).click();
    const frame = page.frameLocator('#phone-frame');
    await expect
      .poll(() => frame.locator('#result').textContent(), { timeout: 10_000 })
      .toContain('"userId":"alice"');
    expect(await page.locator('#phone-origin').textContent()).toBe(peopleOrigin);
    await shot(page, 'action-card-1280');
    await page.close();
  });

  it('shows the 1:1 chat with the bot and the work notices', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 860 } });
    await choose(page, 'alice');
    await page.locator('#chats button[data-conv="oto"]').click();
    await page.locator('#compose-text').fill('help');
    await page.locator('#composer button').click();
    await waitFor(() => emu.messages('oto:alice').find((m) => m.source !== 'user'));
    await expect
      .poll(() => page.locator('#messages li:not(.mine)').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await shot(page, 'direct-1280');
    // Unread until alice opens her work notices; then the send result lists her as read (docs/dingtalk.md §5.1).
    expect((await dt.notice.result(noticeTask.taskId)).unreadUserIds).toEqual(['alice']);
    await page.locator('#chats button[data-conv="notices"]').click();
    const notice = page.locator('#messages li[data-notice]', { hasText: '本周' });
    await notice.waitFor();
    expect(await notice.locator('h2').textContent()).toBe('本周');
    expect(await notice.locator('ul li').textContent()).toBe('完成 2.0');
    expect(await notice.locator('ol li').allTextContents()).toEqual(['写说明', '发布']);
    await expect.poll(async () => (await dt.notice.result(noticeTask.taskId)).readUserIds).toEqual(['alice']);
    expect((await dt.notice.result(noticeTask.taskId)).unreadUserIds).toEqual([]);
    await shot(page, 'notices-read-1280');
    await page.close();
  });

  it('Todos: tapping one opens its page in the phone frame, which gets a 免登 code for the chosen person; a nested foreign frame gets none; ticking closes it', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 860 } });
    await choose(page, 'alice');
    await page.locator('.tab[data-tab="todos"]').click();
    const todo = page.locator('#todo-list li', { hasText: '发布 2.0 Ship' });
    await todo.waitFor();
    // Count the codes the emulator issues (the real method still runs).
    const issued: string[] = [];
    const signIn = emu.state.signIn;
    const issue = signIn.issueCode.bind(signIn);
    signIn.issueCode = (...a: Parameters<typeof issue>) => {
      issued.push(a[1]);
      return issue(...a);
    };
    await todo.locator('button.open').click();
    const frame = page.frameLocator('#phone-frame');
    await expect
      .poll(() => frame.locator('#result').textContent(), { timeout: 10_000 })
      .toContain('"userId":"alice"');
    expect(exchanges.at(-1)).toEqual({ userId: 'alice', name: 'Alice Chen' });
    // The frame nested inside the page (another origin) asked the client too: no answer came, no code was issued.
    await page.waitForTimeout(1_000);
    const foreign = page.frames().find((x) => x.url().endsWith('/foreign'));
    expect(foreign).toBeDefined();
    expect(await foreign!.locator('#got').textContent()).toBe('none');
    expect(issued).toEqual(['alice']);
    expect(await page.locator('#phone-frame').boundingBox()).toMatchObject({ width: 390 });
    await shot(page, 'todo-frame-1280');
    await page.locator('#phone-close').click();

    const mine = emu
      .todos()
      .find((t) => t.subject.includes('发布 2.0') && t.executorIds.includes('unionAlice0000004'))!;
    await todo.locator('button.tick').click();
    await waitFor(() => (emu.state.todos.get(mine.id)!.done ? true : undefined));
    await expect.poll(() => todo.getAttribute('class'), { timeout: 5_000 }).toContain('done');
    // The hub got the event: the task is done, and the other assignee's Todo is closed too.
    await waitFor(async () => ((await hub.getTask(taskId))?.state === 'done' ? true : undefined), 15_000);
    await shot(page, 'todos-1280');
    await page.close();
  });

  it('the workbench opens the app homepage in the phone frame (390 px: full screen)', async () => {
    const page = await newPage({ viewport: { width: 390, height: 844 } });
    await choose(page, 'bob');
    await page.locator('.tab[data-tab="work"]').click();
    await page.locator(`#app-list button[data-app="${APP.appKey}"]`).click();
    const frame = page.frameLocator('#phone-frame');
    await expect
      .poll(() => frame.locator('#result').textContent(), { timeout: 10_000 })
      .toContain('"userId":"bob"');
    await shot(page, 'workbench-390');
    await page.locator('#phone-close').click();
    await page.locator('.tab[data-tab="todos"]').click();
    await page.locator('#todo-list li').first().waitFor();
    await shot(page, 'todos-390');
    // The English switch, remembered in the page.
    await page.locator('#lang').click();
    expect(await page.locator('.tab[data-tab="todos"]').textContent()).toBe('Todos');
    await page.locator('.tab[data-tab="chats"]').click();
    await shot(page, 'chats-en-390');
    await page.reload();
    await expect.poll(() => page.locator('.tab[data-tab="chats"]').textContent()).toBe('Chats');
    // Usable at 360 px: no view scrolls sideways.
    await page.setViewportSize({ width: 360, height: 740 });
    for (const tab of ['chats', 'todos', 'work']) {
      await page.locator(`.tab[data-tab="${tab}"]`).click();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    }
    await page.locator('#who').click();
    await page.locator('#people button').first().waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await shot(page, 'choose-360');
    await page.close();
  });
});

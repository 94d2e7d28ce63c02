/**
 * The people's pages in real Chromium (Debian's, through playwright-core) against a real hub and the emulator over
 * loopback, at a phone's width (390 px) and a PC's. The session comes from a real 免登 code the emulator issued: once
 * posted by the test as the page would, once by the page itself with the SDK bundle replaced by a container stand-in
 * that hands the page a real code (Chromium is not DingTalk). Screenshots are kept in test-artifacts/.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/server/api-server.js';
import { backends } from '../conformance/backends.js';
import { type HubFixture, serveHub, startTestHub } from '../e2e/hub-helpers.js';
import { chromiumOrSkip, expectNoSideScroll, launchChromium } from '../support/browser.js';

const hasChromium = chromiumOrSkip("people's pages browser test");
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

let f: HubFixture;
let server: ApiServer;
let browser: Browser;

let sessionCookie: (userId: string) => Promise<string>;

describe.skipIf(!hasChromium)("the people's pages in Chromium", () => {
  beforeAll(async () => {
    f = await startTestHub(backends[0]!);
    const served = await serveHub(f.hub);
    server = served.server;
    sessionCookie = served.sessionCookie;
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await f?.cleanup();
  });

  it('phone width, Chinese: sees the task, taps done, the page updates; a change elsewhere arrives live', async () => {
    const due = new Date(Date.now() + 26 * 3_600_000).toISOString();
    const task = await f.hub.assignTask(
      {
        title: '检查数据库备份并写一份很长很长的说明 Check the nightly database backups',
        description:
          '每天早上九点前确认。Confirm before 9 am every day; a long unbroken string: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        assignees: ['lisi', '张三'],
        group: 'engineering',
        due,
        priority: 'high',
      },
      { by: 'tester' },
    );
    const ctx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      isMobile: true,
      hasTouch: true,
    });
    await ctx.addCookies([
      { name: 'dk_app_session', value: await sessionCookie('lisi'), url: `${server.url}/app` },
    ]);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    await page.goto(`${server.url}/app/tasks/${task.id}`);
    await expect
      .poll(() => page.locator('#t-title').textContent(), { timeout: 10_000 })
      .toContain('检查数据库备份');
    expect(await page.locator('#t-state').textContent()).toBe('待处理');
    expect(await page.locator('#t-due').textContent()).toContain('Asia/Shanghai');
    expect(await page.locator('#t-assignees').textContent()).toContain('李四');
    expect(await page.locator('#t-actions button').allTextContents()).toEqual(['开始', '完成', '取消']);
    await expectNoSideScroll(page);
    // Chinese glyphs get a real font: the title is as wide as its characters, not a row of empty boxes.
    const box = await page.locator('#t-title').boundingBox();
    expect(box!.height).toBeGreaterThan(20);
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-task-zh-390.png'), fullPage: true });

    await page.locator('#t-actions button[data-action="done"]').tap();
    await expect.poll(() => page.locator('#t-state').textContent(), { timeout: 10_000 }).toBe('已完成');
    expect((await f.hub.getTask(task.id))!.state).toBe('done');
    await expect.poll(() => page.locator('#t-history').textContent()).toContain('李四 · 网页应用 · 完成');
    // Someone else reopens it (an operator through the API): the page follows without a reload.
    await f.hub.actOnTask(task.id, 'reopen', { by: 'api:ops' });
    await expect.poll(() => page.locator('#t-state').textContent(), { timeout: 10_000 }).toBe('待处理');
    await expect.poll(() => page.locator('#t-sent li').count(), { timeout: 10_000 }).toBeGreaterThan(1);
    await expectNoSideScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-task-zh-390-after.png'), fullPage: true });

    await page.goto(`${server.url}/app/`);
    await expect
      .poll(() => page.locator(`#l-open li[data-id="${task.id}"]`).count(), { timeout: 10_000 })
      .toBe(1);
    await expectNoSideScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-list-zh-390.png'), fullPage: true });

    // The narrowest phone the pages are made for.
    await page.setViewportSize({ width: 360, height: 740 });
    await expectNoSideScroll(page);
    await page.goto(`${server.url}/app/tasks/${task.id}`);
    await expect
      .poll(() => page.locator('#t-title').textContent(), { timeout: 10_000 })
      .toContain('检查数据库备份');
    await expectNoSideScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-task-zh-360.png'), fullPage: true });

    await page.goto(`${server.url}/app/new`);
    await expect.poll(() => page.locator('#n-people button').count(), { timeout: 10_000 }).toBeGreaterThan(2);
    await expectNoSideScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-new-zh-390.png'), fullPage: true });
    expect(errors).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('inside DingTalk the page signs itself in with a 免登 code; outside it offers DingTalk login', async () => {
    const task = await f.hub.assignTask(
      { title: 'Rotate the API keys', assignees: ['alice'] },
      { by: 'tester' },
    );
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await ctx.newPage();
    // Outside DingTalk: the real SDK says notInDingTalk, and the page shows the login button.
    await page.goto(`${server.url}/app/tasks/${task.id}`);
    await expect.poll(() => page.locator('#signin-button').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('#signin-button').textContent()).toBe('Sign in with DingTalk');
    expect(await page.locator('#signin-button').getAttribute('href')).toBe(
      `/app/login?next=${encodeURIComponent(`/app/tasks/${task.id}`)}`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-signin-en.png') });

    // Inside DingTalk (a stand-in for the container): the page asks for a code and gets a real one.
    let asked = 0;
    await page.route('**/app/assets/dingtalk-jsapi.js', async (route) => {
      asked++;
      const code = f.hub.emulator!.authCode('alice');
      await route.fulfill({
        contentType: 'text/javascript',
        body: `globalThis.dingkitJsapi = { platform: 'android', requestAuthCode: function () { return Promise.resolve({ code: ${JSON.stringify(code)} }); } };`,
      });
    });
    await page.reload();
    await expect
      .poll(() => page.locator('#t-title').textContent(), { timeout: 10_000 })
      .toBe('Rotate the API keys');
    expect(asked).toBeGreaterThan(0);
    expect(await page.locator('#who').textContent()).toBe('Alice Chen');
    expect(await page.locator('#t-actions button').allTextContents()).toEqual(['Start', 'Done', 'Cancel']);
    // The session cookie is HttpOnly: the page's script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    await expectNoSideScroll(page);
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-task-en-pc.png'), fullPage: true });
    // The language switch.
    await page.locator('#lang').click();
    // The switch re-renders from the API: wait for it rather than reading the old buttons.
    await expect
      .poll(() => page.locator('#t-actions button').allTextContents(), { timeout: 10_000 })
      .toEqual(['开始', '完成', '取消']);
    await ctx.close();
  }, 60_000);
});

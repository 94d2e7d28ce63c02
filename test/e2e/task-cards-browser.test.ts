/**
 * Task cards in real Chromium (docs/hub.md "Task cards"): in the emulated DingTalk client, the group's card for a
 * task shows its title, state, assignees and due in Chinese; 李四 (the assignee) taps 开始 and the card changes in
 * place for everyone, with who did it; 王五 (in the group, not an assignee) taps 完成 and only he is told no, the
 * card staying as it was; 打开 opens the task's page. Clicks travel the client → emulator → Stream → hub inbox →
 * outbox → card update path. Screenshots are kept in test-artifacts/ (and looked at: the Chinese must render).
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/server/api-server.js';
import { chromiumOrSkip, expectNoSideScroll, launchChromium, scrollIntoView } from '../support/browser.js';
import {
  backends,
  ENG,
  type HubFixture,
  serveHub,
  startTestHub,
  testConfig,
  waitFor,
} from './hub-helpers.js';

const hasChromium = chromiumOrSkip('task cards in the emulated client');
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

let f: HubFixture;
let server: ApiServer;
let browser: Browser;

async function asPerson(userId: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${f.hub.emulator!.url}/_emulator/client/`);
  await page.locator(`#people button[data-user="${userId}"]`).click();
  await page.locator(`#chats button[data-conv="g:${ENG}"]`).click();
  return page;
}

describe.skipIf(!hasChromium)('task cards in the emulated DingTalk client', () => {
  beforeAll(async () => {
    f = await startTestHub(backends[0]!, {
      config: testConfig({ locale: 'zh-CN', tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0 } }),
    });
    server = (await serveHub(f.hub)).server;
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await f?.cleanup();
  });

  it('shows the card, applies the assignee’s 开始 in place, refuses a stranger’s 完成 to him alone', async () => {
    const task = await f.hub.assignTask(
      { title: '准备发布说明', assignees: ['李四'], group: 'engineering', due: '2099-03-01 18:00' },
      { by: 'tester' },
    );
    const lisi = await asPerson('lisi');
    const errors: string[] = [];
    lisi.on('pageerror', (e) => errors.push(e.message));
    const card = lisi.locator(`#messages [data-card="dingkit-task-${task.id}"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('.card-title').textContent()).toBe(`#${task.id} 准备发布说明待处理`);
    expect(await card.locator('.badge').textContent()).toBe('待处理');
    expect(await card.textContent()).toContain('负责人：李四');
    expect(await card.textContent()).toContain('截止：2099-03-01 18:00 (UTC+08:00)');
    expect(await card.locator('button').allTextContents()).toEqual(['开始', '完成', '打开']);
    await expectNoSideScroll(lisi);
    await scrollIntoView(card);
    await lisi.screenshot({ path: join(ARTIFACTS, 'task-card-open.png') });

    await card.locator('button[data-action="start"]').click();
    await expect.poll(() => card.locator('.badge').textContent(), { timeout: 10_000 }).toBe('进行中');
    expect(await card.locator('.last-action').textContent()).toMatch(/^李四 开始了任务 · \d{4}-/);
    expect(await card.locator('button').allTextContents()).toEqual(['完成', '打开']);
    expect((await f.hub.getTask(task.id))!.state).toBe('in_progress');
    await lisi.screenshot({ path: join(ARTIFACTS, 'task-card-started.png') });

    // 王五 sees the same card, already changed, and his 完成 is refused on his view only.
    const wangwu = await asPerson('wangwu');
    const his = wangwu.locator(`#messages [data-card="dingkit-task-${task.id}"]`);
    await his.waitFor({ timeout: 10_000 });
    expect(await his.locator('.badge').textContent()).toBe('进行中');
    await his.locator('button[data-action="done"]').click();
    await expect
      .poll(() => his.locator('.card-note').textContent(), { timeout: 10_000 })
      .toBe('你不能修改这个任务。');
    expect(await his.locator('.badge').textContent()).toBe('进行中');
    expect((await f.hub.getTask(task.id))!.state).toBe('in_progress');
    await scrollIntoView(his);
    await wangwu.screenshot({ path: join(ARTIFACTS, 'task-card-refused.png') });
    // 李四's view carries no note.
    await lisi.waitForTimeout(300);
    expect(await card.locator('.card-note').count()).toBe(0);

    // 打开 is a link: the task's page opens in the client's phone frame; nothing is called back.
    const clicks = f.hub.emulator!.state.cards.get(`dingkit-task-${task.id}`)!.clicks;
    await card.locator('button[data-action="open"]').click();
    await waitFor(async () =>
      ((await lisi.locator('#phone-frame').getAttribute('src')) ?? '').includes(`/app/tasks/${task.id}`),
    );
    expect(f.hub.emulator!.state.cards.get(`dingkit-task-${task.id}`)!.clicks).toBe(clicks);
    expect(errors).toEqual([]);
  });
});

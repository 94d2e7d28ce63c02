/**
 * The path of a person in DingTalk, end to end, in real Chromium against a real hub (HTTP on loopback) and its
 * built-in emulator, as `npm start` runs them:
 *
 * - in the emulated DingTalk client, 李四 opens his Todo; its page opens in the phone frame, is signed in by a 免登
 *   code the client hands it (never a userId from the browser), shows the task, and he taps done: the group gets one
 *   announcement, every Todo of the task closes, and the operator dashboard, open in another tab, follows without a
 *   reload;
 * - outside DingTalk the same page offers "Sign in with DingTalk": DingTalk's login page (the emulator's stand-in)
 *   and back, signed in;
 * - a person the access rule does not let near a task sees no action, and an action forged from their session is
 *   refused with the task unchanged.
 *
 * Screenshots of each step are kept in test-artifacts/.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/server/api-server.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { chromiumOrSkip, expectNoSideScroll, launchChromium } from '../support/browser.js';
import {
  backends,
  ENG,
  type HubFixture,
  serveHub,
  startTestHub,
  testConfig,
  waitFor,
} from './hub-helpers.js';

const hasChromium = chromiumOrSkip('people in DingTalk, end to end');
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

let f: HubFixture;
let server: ApiServer;
let browser: Browser;
let admin = '';

/** The task's Todos once every assignee has one (the dispatcher creates them). */
async function todosOf(title: string, n: number) {
  return waitFor(() => {
    const t = f.hub.emulator!.todos().filter((x) => x.subject === title);
    return t.length === n ? t : undefined;
  });
}

describe.skipIf(!hasChromium)('a person in DingTalk, end to end', () => {
  beforeAll(async () => {
    // Alice is an admin (tasks.access.admins): the operator of the last test.
    f = await startTestHub(backends[0]!, {
      config: testConfig({
        tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0, access: { admins: ['alice'] } },
      }),
    });
    const served = await serveHub(f.hub);
    server = served.server;
    admin = (await createApiToken(served.tokens, 'operator', ['admin'])).token;
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await f?.cleanup();
  });

  it('opens the Todo in the client, is signed in by 免登, taps done: one announcement, all Todos closed, the dashboard follows', async () => {
    const title = '准备发布说明';
    const task = await f.hub.assignTask(
      { title, assignees: ['李四', '王五'], group: 'engineering' },
      { by: 'tester' },
    );
    await todosOf(title, 2);

    // The operator's dashboard, open before anything happens.
    const dash = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await dash.goto(`${server.url}/`);
    await dash.locator('#token').fill(admin);
    await dash.locator('#login-form button').click();
    const dashDone = dash.locator(`button[data-task="${task.id}"][data-action="done"]`);
    await dashDone.waitFor({ timeout: 10_000 });

    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${f.hub.emulator!.url}/_emulator/client/`);
    await page.locator('#people button[data-user="lisi"]').click();
    await page.locator('.tab[data-tab="todos"]').click();
    const todo = page.locator('#todo-list li', { hasText: title });
    await todo.waitFor({ timeout: 10_000 });
    await todo.locator('button.open').click();

    const app = page.frameLocator('#phone-frame');
    await expect.poll(() => app.locator('#t-title').textContent(), { timeout: 15_000 }).toBe(title);
    expect(await app.locator('#who').textContent()).toContain('李四');
    expect(await app.locator('#t-assignees').textContent()).toContain('王五');
    await page.screenshot({ path: join(ARTIFACTS, 'people-in-dingtalk-todo-page.png') });

    const before = f.hub.emulator!.messages(ENG).length;
    await app.locator('#t-actions button[data-action="done"]').click();
    await expect.poll(() => app.locator('#t-state').textContent(), { timeout: 10_000 }).toBe('已完成');
    // The group's card of the task (an app-robot group, docs/hub.md "Task cards") follows the page's move.
    await waitFor(
      () => f.hub.emulator!.state.cards.get(`dingkit-task-${task.id}`)?.cardParamMap['state'] === 'done',
      10_000,
      'the card done',
    );

    // Every Todo of the task closes (they go out with the announcement, in the same transaction).
    await waitFor(() =>
      f.hub
        .emulator!.todos()
        .filter((x) => x.subject === title)
        .every((x) => x.done),
    );
    const announcements = f.hub
      .emulator!.messages(ENG)
      .slice(before)
      .filter((m) => m.text.includes(`#${task.id}`));
    expect(announcements).toHaveLength(1);
    expect(announcements[0]!.text).toContain('李四');
    expect((await f.hub.getTask(task.id))!.state).toBe('done');

    // The dashboard followed without a reload: the task's action buttons are gone.
    await expect.poll(() => dashDone.count(), { timeout: 10_000 }).toBe(0);
    await dash.screenshot({ path: join(ARTIFACTS, 'people-in-dingtalk-dashboard.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'people-in-dingtalk-done.png') });
    await expectNoSideScroll(page);
    expect(errors).toEqual([]);
    await ctx.close();
    await dash.close();
  }, 90_000);

  it('outside DingTalk: "Sign in with DingTalk", the login page, and back signed in', async () => {
    const task = await f.hub.assignTask(
      { title: 'Review the budget', assignees: ['Alice Chen'], group: 'engineering' },
      { by: 'tester' },
    );
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/app/tasks/${task.id}`);
    const signIn = page.locator('#signin-button');
    await signIn.waitFor({ timeout: 10_000 });
    await signIn.click();
    // DingTalk's login page (the emulator's stand-in): choose who you are.
    await page.locator('button[name="userId"][value="alice"]').click();
    await expect
      .poll(() => page.locator('#t-title').textContent(), { timeout: 15_000 })
      .toBe('Review the budget');
    expect(new URL(page.url()).pathname).toBe(`/app/tasks/${task.id}`);
    expect(await page.locator('#who').textContent()).toContain('Alice');
    await page.screenshot({ path: join(ARTIFACTS, 'people-in-dingtalk-oauth.png') });
    await ctx.close();
  }, 60_000);

  it('a person the rule keeps away sees no action, and an action forged from their session is refused', async () => {
    const task = await f.hub.assignTask(
      { title: 'Pay the vendor', assignees: ['Alice Chen'], group: 'engineering' },
      { by: 'tester' },
    );
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await page.goto(`${f.hub.emulator!.url}/_emulator/client/`);
    await page.locator('#people button[data-user="wangwu"]').click();
    // 王五 signs in through the workbench (the app's homepage in the phone frame), then opens the task by link.
    await page.locator('.tab[data-tab="work"]').click();
    await page.locator('#app-list button').first().click();
    const app = page.frameLocator('#phone-frame');
    await expect.poll(() => app.locator('#who').textContent(), { timeout: 15_000 }).toContain('王五');
    const frame = page.frame({ url: /\/app\// })!;
    await frame.goto(`${server.url}/app/tasks/${task.id}`);
    await expect.poll(() => frame.locator('#t-actions button').count(), { timeout: 5_000 }).toBe(0);
    expect(await frame.locator('body').textContent()).not.toContain('Pay the vendor');
    // The attack: his own session and CSRF token, a request the page never offered.
    const forged = (await frame.evaluate(async (id) => {
      const me = (await (await fetch('/app/api/me')).json()) as { csrf: string };
      const r = await fetch(`/app/api/tasks/${id}/done`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf },
        body: '{}',
      });
      return r.status;
    }, task.id)) as number;
    expect([403, 404]).toContain(forged);
    expect((await f.hub.getTask(task.id))!.state).toBe('open');
    await page.screenshot({ path: join(ARTIFACTS, 'people-in-dingtalk-refused.png') });
    await ctx.close();
  }, 60_000);

  it('an operator opens the operator dashboard from the app, with no token to paste', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/app/`);
    await page.locator('#signin-button').click();
    await page.locator('button[name="userId"][value="alice"]').click();
    const link = page.locator('#dashboard');
    await expect.poll(() => link.isVisible(), { timeout: 15_000 }).toBe(true);
    await link.click();
    // The dashboard: straight to the tasks, the token prompt never shown, the token not on the page.
    await page.locator('#tasks tr').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#login').isVisible()).toBe(false);
    expect(await page.locator('#tasks').textContent()).toContain('准备发布说明');
    const token = (await page.evaluate('sessionStorage.getItem("dingkit.token")')) as string;
    expect(token).toMatch(/^dk_/);
    expect(await page.content()).not.toContain(token);
    await page.screenshot({ path: join(ARTIFACTS, 'people-in-dingtalk-operator.png') });
    await ctx.close();
  }, 60_000);
});

/**
 * Alert cards in real Chromium (docs/gateways.md "Cards"): in the emulated DingTalk client, engineering (served by
 * the app robot) shows a firing alert's card (红色 告警中) and, beside it, an alert that fired and resolved as one
 * card updated in place (绿色 已恢复, with how long it fired), in Chinese. Screenshots are kept in test-artifacts/
 * (and looked at: the Chinese must render).
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, expectNoSideScroll, launchChromium, scrollIntoView } from '../support/browser.js';
import { alertCards, amBody, gatewayConfig, hookApp } from './gateways-support.js';
import { backends, ENG, type HubFixture, startTestHub, waitFor } from './hub-helpers.js';

const hasChromium = chromiumOrSkip('alert cards in the emulated client');
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

let f: HubFixture;
let browser: Browser;

const alert = (name: string, fp: string, status: 'firing' | 'resolved') =>
  amBody(
    [
      {
        name,
        fp,
        status,
        labels: { severity: 'warning', service: 'web-api', owner: '张三' },
        annotations: { summary: `${name}：接口延迟超过 2 秒`, runbook_url: 'https://runbooks.example/web' },
        startsAt: '2026-12-05T02:00:00Z',
        ...(status === 'resolved' ? { endsAt: '2026-12-05T02:42:00Z' } : {}),
      },
    ],
    `g-${fp}`,
  );

describe.skipIf(!hasChromium)('alert cards in the emulated DingTalk client', () => {
  beforeAll(async () => {
    const config = gatewayConfig({ flapWindowMs: 0 });
    f = await startTestHub(backends[0]!, { config: { ...config, locale: 'zh-CN' } });
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await f?.cleanup();
  });

  it('shows a firing card and a resolved one, in Chinese, each with its colour', async () => {
    const { post } = hookApp(f.hub);
    const emu = f.hub.emulator!;
    expect((await post('/hooks/am', alert('ApiLatency', 'fp-b1', 'firing'))).status).toBe(202);
    await waitFor(() => alertCards(emu, ENG, 'ApiLatency')[0]);
    expect((await post('/hooks/am', alert('ApiLatency', 'fp-b1', 'resolved'))).status).toBe(202);
    const resolvedId = (
      await waitFor(() =>
        alertCards(emu, ENG, 'ApiLatency').find((c) => c.cardParamMap['state'] === 'resolved'),
      )
    ).outTrackId;
    expect((await post('/hooks/am', alert('DiskAlmostFull', 'fp-b2', 'firing'))).status).toBe(202);
    const firingId = (await waitFor(() => alertCards(emu, ENG, 'DiskAlmostFull')[0])).outTrackId;

    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${emu.url}/_emulator/client/`);
    await page.locator('#people button[data-user="lisi"]').click();
    await page.locator(`#chats button[data-conv="g:${ENG}"]`).click();

    const firing = page.locator(`#messages [data-card="${firingId}"]`);
    const resolved = page.locator(`#messages [data-card="${resolvedId}"]`);
    await firing.waitFor({ timeout: 10_000 });
    await resolved.waitFor({ timeout: 10_000 });
    expect(await firing.locator('.badge').textContent()).toBe('告警中');
    expect(await resolved.locator('.badge').textContent()).toBe('已恢复');
    expect(await firing.textContent()).toContain('级别：warning');
    expect(await firing.textContent()).toContain('负责人：张三');
    expect(await firing.textContent()).not.toContain('owner');
    expect(await firing.locator('.last-action').textContent()).toBe('触发于 2026-12-05 10:00 (UTC+08:00)');
    expect(await resolved.locator('.last-action').textContent()).toBe(
      '恢复于 2026-12-05 10:42 (UTC+08:00)，持续 42分钟',
    );
    expect(await firing.locator('button').allTextContents()).toEqual(['处置手册']);
    // The state's colour: red while firing, green once resolved (the emulated client's badge).
    // In the page (the tests compile without the DOM's types).
    const colour = (l: Locator) =>
      l.locator('.badge').evaluate((e) => {
        const w = globalThis as unknown as { getComputedStyle(x: unknown): { color: string } };
        return w.getComputedStyle(e).color;
      });
    expect(await colour(firing)).toBe('rgb(217, 48, 38)');
    expect(await colour(resolved)).toBe('rgb(30, 142, 62)');
    // One card per alert: the resolve changed its card and posted nothing.
    expect(await page.locator('#messages [data-card]').count()).toBe(2);
    await expectNoSideScroll(page);
    await scrollIntoView(firing);
    await page.screenshot({ path: join(ARTIFACTS, 'alert-cards.png') });
    expect(errors).toEqual([]);
  });
});

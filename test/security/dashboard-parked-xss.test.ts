/**
 * The dashboard's parked-deliveries view against text people control: a parked delivery's evidence shows the
 * payload as stored, which is whatever a send token's caller wrote. Driven in real Chromium against a real hub:
 * markup in the text runs nothing and is shown as text, each decision asks for confirmation first (a dismissed
 * confirmation changes nothing), a confirmed one is recorded and shown, and a decision someone else took first is
 * reported, not overwritten. Screenshots are kept in test-artifacts/ (ignored).
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveParked } from '../../src/hub/delivery/resolve.js';
import { waitFor } from '../e2e/hub-helpers.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';
import { type HostileHub, startHostileHub } from './hostile-hub.js';

const hasChromium = chromiumOrSkip('dashboard parked-deliveries XSS test');
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const APP_GROUP_SEND = 'POST /v1.0/robot/groupMessages/send';

const TEXT =
  '<img src=x onerror="window.__pwned=1">release notes</textarea><script>window.__pwned=2</script>';
const TEXT2 = '<svg onload="window.__pwned=3"><a href="javascript:window.__pwned=4">deploy</a>';
const NOTE = '<img src=x onerror="window.__pwned=5">checked the group';

let h: HostileHub;
let browser: Browser;

async function park(text: string): Promise<string> {
  const hub = h.f.hub;
  hub.emulator!.setFaults({ rules: [{ route: APP_GROUP_SEND, resetAfter: 1, acceptFirst: 0 }] });
  try {
    const r = await hub.sendMessage({ group: 'engineering', text }, { by: 'api:mallory' });
    return await waitFor(
      async () => {
        const d = (await hub.getMessage(r.messageId))?.deliveries[0];
        return d?.status === 'parked' ? d.id : undefined;
      },
      10_000,
      'parked',
    );
  } finally {
    hub.emulator!.setFaults({ rules: [] });
  }
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${h.server.url}/`);
  await page.locator('#token').fill(h.token);
  await page.locator('#login-form button').click();
  await expect.poll(() => page.locator('#live-text').textContent(), { timeout: 10_000 }).toBe('live');
}

describe.skipIf(!hasChromium)('the parked-deliveries view against text people control', () => {
  let first = '';
  let second = '';
  beforeAll(async () => {
    h = await startHostileHub();
    first = await park(TEXT);
    second = await park(TEXT2);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('attack: markup in a parked payload and a note runs nothing; decisions are confirmed first and recorded', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const dialogs: string[] = [];
    let accept = false;
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void (accept ? d.accept() : d.dismiss());
    });
    await signIn(page);
    await expect.poll(() => page.locator('#parked-count').textContent(), { timeout: 10_000 }).toBe('2');
    await page.locator(`button[data-parked="${first}"]`).click();
    await expect
      .poll(() => page.locator('#parked-detail').textContent(), { timeout: 10_000 })
      .toContain('release notes');
    const detail = (await page.locator('#parked-detail').textContent()) ?? '';
    expect(detail).toContain(TEXT.replace(/"/g, '\\"'));
    expect(detail).toMatch(/#1 park/);
    expect(detail).toMatch(/outcome unknown/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-parked.png'), fullPage: true });

    // Dismissed: nothing is sent to the hub, nothing changes.
    await page.locator('#parked-note').fill(NOTE);
    await page.locator('button[data-resolve="mark-sent"]').click();
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toMatch(/^confirm: Mark sent delivery #\d+: it did arrive/);
    expect((await h.f.hub.deliveryEvidence(first))?.status).toBe('parked');

    // Confirmed: recorded, with the note, and shown as text.
    accept = true;
    await page.locator('button[data-resolve="mark-sent"]').click();
    await expect
      .poll(() => page.locator('#parked-done').textContent(), { timeout: 10_000 })
      .toBe(`#${first}: mark-sent by api:operator, now sent`);
    const e = await h.f.hub.deliveryEvidence(first);
    expect(e?.decisions).toMatchObject([{ action: 'mark-sent', by: 'api:operator', note: NOTE }]);
    await expect.poll(() => page.locator('#parked-detail').textContent()).toContain(NOTE);
    await expect.poll(() => page.locator('#parked-count').textContent()).toBe('1');
    // The other panels follow the decision live (delivery.resolved): the queue and the header's count.
    await expect.poll(() => page.locator('#deliveries .b-sent').count()).toBe(1);
    await expect.poll(() => page.locator('#meta').textContent()).toContain('1 parked');

    for (const sel of ['img', 'iframe', 'svg', 'a', 'main script']) {
      expect(await page.locator(sel).count(), sel).toBe(0);
    }
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs.every((d) => d.startsWith('confirm: Mark sent'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-parked-resolved.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('a decision someone else took first is reported with who took it, not overwritten', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (d) => void d.accept());
    await signIn(page);
    await page.locator(`button[data-parked="${second}"]`).click();
    await expect
      .poll(() => page.locator('#parked-detail').textContent(), { timeout: 10_000 })
      .toContain('deploy');
    // An operator on another hub process (whose events this page does not hear) drops it while this page still
    // shows the buttons.
    await resolveParked(h.f.store, {
      id: Number(second),
      action: 'drop',
      by: 'api:other-operator',
      now: Date.now(),
    });
    await page.locator('button[data-resolve="redrive"]').click();
    await expect
      .poll(() => page.locator('#parked-error').textContent(), { timeout: 10_000 })
      .toMatch(/already resolved: drop by api:other-operator/);
    const e = await h.f.hub.deliveryEvidence(second);
    expect(e).toMatchObject({
      status: 'cancelled',
      decisions: [{ action: 'drop', by: 'api:other-operator' }],
    });
    expect(h.f.hub.emulator!.messages().some((m) => m.text.includes('deploy'))).toBe(false);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.close();
  }, 60_000);
});

/**
 * Stored XSS against the operator's dashboard: people in the org write task titles and notes (through
 * an API caller acting for them, or chat), chat text and their own nick; the operator opens the dashboard, which
 * holds an admin token. Driven in real Chromium against a real hub over loopback: no injected script may run
 * (`window.__pwned` stays unset, no dialog opens), nothing is rendered as markup, the page's Content-Security-Policy
 * allows only its own hashed script and style (so a future `innerHTML` slip still runs nothing), and the token stays
 * in this origin's sessionStorage, never sent to another origin. A screenshot is kept in test-artifacts/ (ignored).
 */

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';
import { chatFromStranger, type HostileHub, startHostileHub } from './hostile-hub.js';

const hasChromium = chromiumOrSkip('dashboard XSS test');

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

/** Each payload sets its own number, so a failure says which door let script through. */
const TITLE = '<img src=x onerror="window.__pwned=1">Quarterly report';
const DESCRIPTION = '</script><script>window.__pwned=2</script><svg onload="window.__pwned=3">';
const NOTE = 'javascript:window.__pwned=4//"><a href="javascript:window.__pwned=5">click</a>';
const NICK = '<svg/onload=window.__pwned=6>Mallory';
const CHAT = '<img src=x onerror=alert(7)> done 1';
const RENAME = '<iframe srcdoc="<script>parent.__pwned=8</script>">';

let h: HostileHub;
let browser: Browser;

async function api(path: string, body: unknown, method = 'POST'): Promise<Record<string, unknown>> {
  const res = await fetch(`${h.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(j)).toBeLessThan(300);
  return j;
}

describe.skipIf(!hasChromium)('the dashboard against text people control', () => {
  beforeAll(async () => {
    h = await startHostileHub();
    const t = await api('/v1/tasks', { title: TITLE, description: DESCRIPTION, assignees: ['Alice Chen'] });
    await api(`/v1/tasks/${t['id']}/start`, { note: NOTE });
    const t2 = await api('/v1/tasks', { title: 'to be renamed', assignees: ['Bob Li'] });
    await api(`/v1/tasks/${t2['id']}`, { title: RENAME }, 'PATCH');
    await chatFromStranger(h, NICK, CHAT, 'xss-chat-1');
    await chatFromStranger(h, NICK, `done ${t['id']}`, 'xss-chat-2');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('attack: markup in titles, descriptions, notes, nicks and chat text runs nothing and renders as text', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`${h.server.url}/`)) foreign.push(r.url());
    });
    await page.goto(`${h.server.url}/`);
    await page.locator('#token').fill(h.token);
    await page.locator('#login-form button').click();
    await expect
      .poll(() => page.locator('#tasks').textContent(), { timeout: 10_000 })
      .toContain('Quarterly report');
    await expect
      .poll(() => page.locator('#commands').textContent(), { timeout: 10_000 })
      .toContain('Mallory');
    await expect.poll(() => page.locator('#live-text').textContent(), { timeout: 10_000 }).toBe('live');
    // The same text arriving live, after the page loaded, goes through the SSE path too.
    await chatFromStranger(h, `${NICK}2`, CHAT, 'xss-chat-3');
    await expect.poll(() => page.locator('#commands').textContent()).toContain('Mallory2');

    const tasks = await page.locator('#tasks').textContent();
    expect(tasks).toContain(TITLE);
    expect(tasks).toContain(RENAME);
    expect(await page.locator('#commands').textContent()).toContain(NICK);
    // Nothing became an element: the only images, frames, svgs, links and scripts are none at all.
    for (const sel of ['img', 'iframe', 'svg', 'a', 'script:not(:first-of-type)', 'main script']) {
      expect(await page.locator(sel).count(), sel).toBe(0);
    }
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-xss.png'), fullPage: true });

    // The token: in this origin's sessionStorage only; never in the DOM, localStorage, cookies or a foreign URL.
    expect(await page.content()).not.toContain(h.token);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(foreign).toEqual([]);
    await page.close();
  }, 60_000);

  it('the page is served with a strict CSP: only its own script and style, by hash; no inline handlers', async () => {
    const res = await fetch(`${h.server.url}/`);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    ) as Record<string, string[]>;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
    expect(directives['script-src']).toEqual([sha(script)]);
    expect(directives['style-src']).toEqual([sha(style)]);
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    expect(directives['form-action']).toEqual(["'none'"]);
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('x-frame-options')).toBe('DENY');

    // Defence in depth, in the browser: markup slipped into the page later (a future innerHTML) still runs nothing.
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) violations.push(m.text());
    });
    await page.goto(`${h.server.url}/`);
    await page.locator('#token').waitFor();
    await page.evaluate(`
      document.body.insertAdjacentHTML('beforeend',
        '<img src="data:," onerror="window.__csp=1" onload="window.__csp=2">' +
        '<div id="slip" onclick="window.__csp=3">x</div>');
      document.getElementById('slip').click();
    `);
    await expect.poll(() => violations.length).toBeGreaterThan(0);
    expect(await page.evaluate('window.__csp')).toBeUndefined();
    // Its own script did run under that policy: the login form is live.
    expect(await page.locator('#login').isVisible()).toBe(true);
    await page.close();
  }, 60_000);
});

/**
 * Stored XSS against the people's pages: task titles, descriptions, notes, people's names and group text come from
 * people; the pages run with a session that can change tasks. Driven in real Chromium against a real hub: no
 * injected script may run (`window.__pwned` stays unset, no dialog opens), nothing becomes an element, and the
 * page's CSP allows only its hashed inline script and style plus this origin's files (no `unsafe-inline`), so a
 * future `innerHTML` slip still runs nothing.
 */

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/server/api-server.js';
import { backends } from '../conformance/backends.js';
import { type HubFixture, serveHub, startTestHub } from '../e2e/hub-helpers.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';

const hasChromium = chromiumOrSkip("people's pages XSS test");
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

const TITLE = '<img src=x onerror="window.__pwned=1">Quarterly report';
const DESCRIPTION = '</script><script>window.__pwned=2</script><svg onload="window.__pwned=3">';
const NOTE =
  '"><a href="javascript:window.__pwned=4">click</a><iframe srcdoc="<script>parent.__pwned=5</script>">';

let f: HubFixture;
let server: ApiServer;
let browser: Browser;
let sessionCookie: (userId: string) => Promise<string>;

describe.skipIf(!hasChromium)("the people's pages against text people control", () => {
  beforeAll(async () => {
    f = await startTestHub(backends[0]!);
    const served = await serveHub(f.hub);
    server = served.server;
    sessionCookie = served.sessionCookie;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await f?.cleanup();
  });

  it('attack: markup in a title, description and note runs nothing and renders as text', async () => {
    const task = await f.hub.assignTask(
      { title: TITLE, description: DESCRIPTION, assignees: ['alice'], group: 'engineering' },
      { by: 'tester' },
    );
    await f.hub.actOnTask(
      task.id,
      'start',
      { by: '<svg onload=window.__pwned=6>', person: { key: 'alice' } },
      NOTE,
    );
    const id = await sessionCookie('alice');
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await ctx.addCookies([{ name: 'dk_app_session', value: id, url: `${server.url}/app` }]);
    const page = await ctx.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    for (const path of [`/app/tasks/${task.id}`, '/app/']) {
      await page.goto(`${server.url}${path}`);
      await expect
        .poll(() => page.locator('main').textContent(), { timeout: 10_000 })
        .toContain('Quarterly report');
      expect(await page.locator('main').textContent()).toContain(TITLE);
      for (const sel of [
        'main img',
        'main svg',
        'main iframe',
        'main script',
        'main a[href^="javascript"]',
      ]) {
        expect(await page.locator(sel).count(), `${path} ${sel}`).toBe(0);
      }
    }
    await page.goto(`${server.url}/app/tasks/${task.id}`);
    await expect.poll(() => page.locator('#t-desc').textContent(), { timeout: 10_000 }).toBe(DESCRIPTION);
    expect(await page.locator('#t-history').textContent()).toContain(NOTE);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'people-app-xss.png'), fullPage: true });
    await ctx.close();
  }, 60_000);

  it('the page CSP: the inline script and style by hash, no unsafe-inline, no inline handlers in the shell', async () => {
    const res = await fetch(`${server.url}/app/`);
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
    expect(directives['script-src']).toEqual(["'self'", sha(script)]);
    expect(directives['style-src']).toEqual([sha(style)]);
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(csp).not.toContain('unsafe');
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
    // The script parses as the browser will (a template-literal slip would break it).
    expect(() => new Function(script)).not.toThrow();
    // The SDK file the policy lets in is served as a script of this origin, never sniffed as anything else.
    const sdk = await fetch(`${server.url}/app/assets/dingtalk-jsapi.js`);
    expect(sdk.headers.get('content-type')).toMatch(/javascript/);
    expect(sdk.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await sdk.text()).toContain('dingkitJsapi');
  });
});

/**
 * Attacks on the emulator's stand-in login page (`/oauth2/auth`, docs/dingtalk.md §13.3), run as an attacker would:
 * a link whose `redirect_uri` is `javascript:` or `data:` (the code would run or leak in the page's origin), a
 * `state` or a person's name carrying markup (reflected / stored XSS), an unknown `client_id`, and a page on another
 * origin posting the choice for the person. Refused → HTML 400/403, no redirect, no code issued. In Chromium (when
 * installed) no injected script runs, and choosing a person really lands on `redirect_uri` with the code and state.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { chromiumOrSkip, launchChromium } from '../support/browser.js';

const hasChromium = chromiumOrSkip('login page XSS test');

const APP_KEY = 'dingdemoappkey000001';
const EVIL_NAME = '<img src=x onerror="window.__pwned=1">Mallory';
const EVIL_STATE = '"><script>window.__pwned=2</script><svg onload="window.__pwned=3">';

let emu: Emulator;

beforeAll(async () => {
  const fixture = demoOrg();
  fixture.org.users.push({
    userId: 'mallory',
    unionId: 'unionMallory00006',
    mobile: '13800000006',
    name: EVIL_NAME,
  });
  emu = await startEmulator({ seed: 3, fixture });
});
afterAll(async () => {
  await emu.close();
});

function authUrl(params: Record<string, string>): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: APP_KEY,
    scope: 'openid',
    state: 's',
    prompt: 'consent',
    ...params,
  });
  return `${emu.url}/oauth2/auth?${q}`;
}

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function choose(form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await request(`${emu.url}/oauth2/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      response_type: 'code',
      client_id: APP_KEY,
      scope: 'openid',
      ...form,
    }).toString(),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const codes = () => emu.state.signIn.codes.size;

describe('the login page refuses bad redirects and unknown apps', () => {
  const bad = [
    'javascript:alert(document.domain)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '//evil.example/cb',
    '/relative/cb',
    'https://hub.example.com/cb#steal',
    'ftp://hub.example.com/cb',
  ];

  it.each(bad)('GET with redirect_uri=%s → 400, nothing rendered from it', async (redirect_uri) => {
    const r = await get(authUrl({ redirect_uri }));
    expect(r.status).toBe(400);
    expect(r.headers['location']).toBeUndefined();
    expect(r.text).not.toContain('<script>alert');
    expect(r.text).not.toContain('javascript:');
  });

  it.each(bad)('POST choosing a person with redirect_uri=%s → 400, no code issued', async (redirect_uri) => {
    const before = codes();
    const r = await choose({ redirect_uri, userId: 'zhangsan', state: 's' });
    expect(r.status).toBe(400);
    expect(r.headers['location']).toBeUndefined();
    expect(codes()).toBe(before);
  });

  it('an unknown client_id, response_type or scope is refused', async () => {
    const ok = 'http://127.0.0.1:9/cb';
    expect((await get(authUrl({ redirect_uri: ok, client_id: '<b>nope</b>' }))).status).toBe(400);
    expect((await get(authUrl({ redirect_uri: ok, response_type: 'token' }))).status).toBe(400);
    expect((await get(authUrl({ redirect_uri: ok, scope: 'openid contact' }))).status).toBe(400);
    const page = await get(authUrl({ redirect_uri: ok, client_id: '<b>nope</b>' }));
    expect(page.text).not.toContain('<b>nope</b>');
  });

  it('a person who is not in the org cannot be chosen', async () => {
    const before = codes();
    const r = await choose({ redirect_uri: 'http://127.0.0.1:9/cb', userId: 'intruder', state: 's' });
    expect(r.status).toBe(400);
    expect(codes()).toBe(before);
  });

  it('a page on another origin posting the choice is refused (403), no code issued', async () => {
    const before = codes();
    const r = await choose(
      { redirect_uri: 'https://evil.example/cb', userId: 'zhangsan', state: 's' },
      { origin: 'https://evil.example' },
    );
    expect(r.status).toBe(403);
    expect(r.headers['location']).toBeUndefined();
    expect(codes()).toBe(before);
    const nul = await choose(
      { redirect_uri: 'http://127.0.0.1:9/cb', userId: 'zhangsan' },
      { origin: 'null' },
    );
    expect(nul.status).toBe(403);
  });
});

describe('the login page escapes what it renders', () => {
  it('a script in state and in a person’s name comes back as text, under a no-script CSP', async () => {
    const r = await get(authUrl({ redirect_uri: 'http://127.0.0.1:9/cb?a=1&b="x"', state: EVIL_STATE }));
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('<script>window');
    expect(r.text).not.toContain('<svg onload');
    expect(r.text).not.toContain('<img src=x');
    expect(r.text).toContain('&#60;script&#62;window.__pwned=2');
    expect(r.text).toContain('&#60;img src=x onerror=&#34;window.__pwned=1&#34;&#62;Mallory');
    expect(String(r.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('state goes back to redirect_uri exactly, as a query value, with the code as authCode and code', async () => {
    const r = await choose(
      { redirect_uri: 'http://127.0.0.1:9/cb?keep=1', userId: 'lisi', state: EVIL_STATE },
      { origin: emu.url },
    );
    expect(r.status).toBe(302);
    const back = new URL(String(r.headers['location']));
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:9/cb');
    expect(back.searchParams.get('state')).toBe(EVIL_STATE);
    expect(back.searchParams.get('keep')).toBe('1');
    expect(back.searchParams.get('authCode')).toMatch(/^[0-9a-f]{32}$/);
    expect(back.searchParams.get('code')).toBe(back.searchParams.get('authCode'));
  });
});

describe.skipIf(!hasChromium)('in Chromium', () => {
  let browser: Browser;
  let app: Server;
  let landed: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    landed = [];
    app = createServer((req, res) => {
      landed.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('signed in');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => app.close(() => r()));
  });

  it('no injected script runs, and choosing a person lands on redirect_uri with the code and state', async () => {
    const port = (app.address() as AddressInfo).port;
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(authUrl({ redirect_uri: `http://127.0.0.1:${port}/cb`, state: EVIL_STATE }));
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('button[value="mallory"]').textContent()).toContain('<img src=x');
    await Promise.all([page.waitForURL(/\/cb\?/), page.click('button[value="lisi"]')]);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    const back = new URL(page.url());
    expect(back.searchParams.get('state')).toBe(EVIL_STATE);
    expect(back.searchParams.get('authCode')).toMatch(/^[0-9a-f]{32}$/);
    // Once at the app (the browser may also ask it for a favicon).
    expect(landed.filter((u) => u.startsWith('/cb?'))).toHaveLength(1);
    await page.close();
  });
});

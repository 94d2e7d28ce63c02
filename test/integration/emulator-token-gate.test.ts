/**
 * The emulator's token gate (src/emulator/token-gate.ts), over real sockets: token requests are counted per app,
 * tokens issued are counted apart (DingTalk re-issues a valid token, docs/dingtalk.md §1.2, so the two differ), a
 * forced expiry makes the next fetch issue a new token, and a held request waits until released, or is dropped
 * without a token when its client goes away (what a `kill -9` mid-refresh looks like from DingTalk's side).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { TokenStats } from '../../src/emulator/token-gate.js';
import { call } from './emulator-http.js';

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator({ seed: 7 });
});
afterEach(async () => {
  await emu.close();
});

const fetchToken = () => {
  const app = emu.state.org.apps[0]!;
  return call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
    body: { appKey: app.appKey, appSecret: app.appSecret },
  });
};
const stats = async () => (await call<TokenStats>(`${emu.url}/_emulator/tokens`)).body;

describe('token gate', () => {
  it('counts fetches and issued tokens apart; a forced expiry makes the next fetch a new token', async () => {
    const appKey = emu.state.org.apps[0]!.appKey;
    const a = (await fetchToken()).body.accessToken;
    const b = (await fetchToken()).body.accessToken;
    expect(b).toBe(a); // same token while valid (§1.2)
    // Bad credentials are not a fetch: nothing was handed out.
    await call(`${emu.url}/v1.0/oauth2/accessToken`, { body: { appKey, appSecret: 'wrong' } });
    expect(await stats()).toMatchObject({ fetches: { [appKey]: 2 }, issued: { [appKey]: 1 }, held: 0 });
    await call(`${emu.url}/_emulator/tokens/expire`, { body: {} });
    const c = (await fetchToken()).body.accessToken;
    expect(c).not.toBe(a);
    expect(await stats()).toMatchObject({ fetches: { [appKey]: 3 }, issued: { [appKey]: 2 } });
  });

  it('holds the next token request until released; the one after passes', async () => {
    const appKey = emu.state.org.apps[0]!.appKey;
    expect((await call(`${emu.url}/_emulator/tokens/hold`, { body: { count: 1 } })).status).toBe(200);
    let answered = false;
    const held = fetchToken().then((r) => {
      answered = true;
      return r;
    });
    await emu.state.tokenGate.whenHeld();
    expect(await stats()).toMatchObject({ held: 1, holdNext: 0, issued: {} });
    // Only one was to be held: the next request is answered while the first still waits.
    expect((await fetchToken()).status).toBe(200);
    expect(answered).toBe(false);
    expect((await call(`${emu.url}/_emulator/tokens/release`, { body: {} })).body).toEqual({ released: 1 });
    const r = await held;
    expect(r.status).toBe(200);
    expect(r.body.accessToken).toMatch(/^[0-9a-f]{32,}$/);
    expect(await stats()).toMatchObject({ fetches: { [appKey]: 2 }, issued: { [appKey]: 1 }, held: 0 });
  });

  it('a held request whose client goes away is dropped: counted as a fetch, no token issued', async () => {
    const appKey = emu.state.org.apps[0]!.appKey;
    const { whenHeld } = emu.holdTokens(1);
    const ac = new AbortController();
    const app = emu.state.org.apps[0]!;
    const aborted = fetch(`${emu.url}/v1.0/oauth2/accessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ appKey: app.appKey, appSecret: app.appSecret }),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await whenHeld;
    ac.abort();
    await aborted;
    const deadline = Date.now() + 2_000;
    while ((await stats()).held > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await stats()).toMatchObject({ fetches: { [appKey]: 1 }, issued: {}, held: 0 });
    expect(emu.releaseTokens()).toBe(0);
  });

  it('refuses a bad hold count with a reason', async () => {
    for (const count of [-1, 1.5, 'x', 5_000]) {
      const r = await call<{ error: string }>(`${emu.url}/_emulator/tokens/hold`, { body: { count } });
      expect(r.status).toBe(400);
      expect(r.text).toContain('count must be an integer');
    }
  });
});

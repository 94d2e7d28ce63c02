/**
 * Cross-site: the emulator's control API acts as people (posts in groups, clicks cards, closes todos) and
 * changes the fault plan. A web page the developer has open must not be able to drive it: a browser sends a
 * cross-site "simple" request (text/plain or form body, no preflight) with the page's Origin, and answers are
 * not needed for the harm. Loopback callers without an Origin (the CLI, tests, the demo scene) and the
 * emulator's own origin keep working, with JSON bodies.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import { startEmulator } from '../../src/emulator/index.js';
import { call } from '../integration/emulator-http.js';

const ENG = 'cidDemoEngineering0001==';
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu.close();
});

const postUrl = () => `${emu.url}/_emulator/groups/${encodeURIComponent(ENG)}/messages`;
const count = () => emu.messages(ENG).length;
const body = (text: string) => JSON.stringify({ from: 'alice', text });

describe('emulator control API refuses cross-site requests', () => {
  it('a page on another origin posting text/plain, as a browser form or fetch would: refused, nothing done', async () => {
    const before = count();
    const r = await call(postUrl(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://evil.example' },
      raw: body('cancel everything'),
    });
    expect(r.status).toBe(403);
    expect(count()).toBe(before);
  });

  it('the same with a JSON body but a foreign or opaque Origin: refused', async () => {
    const before = count();
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:1']) {
      const r = await call(postUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        raw: body('from a page'),
      });
      expect(r.status).toBe(403);
    }
    expect(count()).toBe(before);
  });

  it('a non-JSON body without an Origin (an old browser, a form): refused with 415, nothing done', async () => {
    const before = count();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await call(postUrl(), {
        method: 'POST',
        headers: { 'content-type': type },
        raw: body('form'),
      });
      expect(r.status).toBe(415);
    }
    const noType = await call(`${emu.url}/_emulator/reset`, { method: 'POST', raw: '' });
    expect(noType.status).toBe(415);
    expect(count()).toBe(before);
  });

  it('the fault plan cannot be changed cross-site either', async () => {
    const r = await call(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      raw: JSON.stringify({ rules: [{ route: '*', error5xx: 1 }] }),
    });
    expect(r.status).toBe(403);
    expect(emu.faults().rules ?? []).toEqual([]);
  });

  it('reads are refused to a foreign Origin and to a rebinding Host name', async () => {
    expect(
      (await call(`${emu.url}/_emulator/org`, { headers: { origin: 'http://evil.example' } })).status,
    ).toBe(403);
    const port = new URL(emu.url).port;
    expect(
      (await call(`${emu.url}/_emulator/org`, { headers: { host: `evil.example:${port}` } })).status,
    ).toBe(403);
  });

  it('loopback callers keep working: JSON without an Origin, and the emulator own origin', async () => {
    const before = count();
    const cli = await call(postUrl(), { body: { from: 'alice', text: 'from the CLI' } });
    expect(cli.status).toBe(200);
    const same = await call(postUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: emu.url },
      raw: body('from its own page'),
    });
    expect(same.status).toBe(200);
    expect(count()).toBe(before + 2);
    // DingTalk's own routes are not the control API: unchanged (a webhook is form-or-JSON, no Origin rules).
    expect((await call(`${emu.url}/_emulator/org`)).status).toBe(200);
  });
});

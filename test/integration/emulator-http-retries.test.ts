/**
 * The emulator as the fault source of the HTTP exactly-once proof (test/chaos/hub-http.test.ts): a robot message
 * pushed over HTTP (docs/dingtalk.md §9a) is pushed again while it fails, `limits.callbackRetries` times (the event
 * schedule of §9b; for robot messages DingTalk documents none, §12, so it is the same setting, 0 by default), and
 * the `callbacks.repushAnsweredRate` fault pushes an answered one again, as when DingTalk never saw the answer.
 */

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';

const ENG = 'cidDemoEngineering0001==';
const servers: Server[] = [];
const emulators: Emulator[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const e of emulators.splice(0)) await e.close();
});

/** A robot URL that answers 500 to its first `failures` requests, then 200; it counts the msgIds it was sent. */
async function robotUrl(failures: number): Promise<{ url: string; msgIds: string[] }> {
  const msgIds: string[] = [];
  let n = 0;
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      msgIds.push((JSON.parse(body) as { msgId: string }).msgId);
      res.statusCode = n++ < failures ? 500 : 200;
      res.end(res.statusCode === 200 ? '{"msgtype":"empty"}' : 'no');
    });
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/robot`, msgIds };
}

async function emulator(limits: Record<string, number> = {}): Promise<Emulator> {
  const emu = await startEmulator({ seed: 3, limits });
  emulators.push(emu);
  return emu;
}

describe('emulator HTTP robot pushes: retries and re-pushes', () => {
  it('a robot push answered 500 is sent again until answered, each attempt recorded', async () => {
    const emu = await emulator({ callbackRetries: 4, callbackRetryDelayMs: 5 });
    const robot = await robotUrl(2);
    emu.state.org.apps[0]!.botCallbackUrl = robot.url;
    const r = await emu.postMessage(ENG, { from: 'lisi', text: 'help', atBot: true });
    expect(r.http).toMatchObject({ ok: true, result: 'ok' });
    expect(emu.acting.callbacks.map((c) => [c.result, c.reason])).toEqual([
      ['http_500', 'first'],
      ['http_500', 'retry'],
      ['ok', 'retry'],
    ]);
    // The same message each time (DingTalk's id), as a receiver must dedupe on it.
    expect(new Set(robot.msgIds).size).toBe(1);
  });

  it('twin: with the default 0 retries one failure is final, and the message never arrives', async () => {
    const emu = await emulator();
    const robot = await robotUrl(1);
    emu.state.org.apps[0]!.botCallbackUrl = robot.url;
    const r = await emu.postMessage(ENG, { from: 'lisi', text: 'help', atBot: true });
    expect(r.http).toMatchObject({ ok: false, result: 'http_500' });
    expect(emu.acting.callbacks).toHaveLength(1);
  });

  it('a dead URL (connection refused) is retried as a network failure', async () => {
    const emu = await emulator({ callbackRetries: 2, callbackRetryDelayMs: 5 });
    const robot = await robotUrl(0);
    for (const s of servers.splice(0)) s.close();
    emu.state.org.apps[0]!.botCallbackUrl = robot.url;
    const r = await emu.postMessage(ENG, { from: 'lisi', text: 'help', atBot: true });
    expect(r.http?.ok).toBe(false);
    expect(emu.acting.callbacks.map((c) => c.result)).toEqual(['network', 'network', 'network']);
  });

  it('repushAnsweredRate 1: every answered push comes once more with the same message; 0: never', async () => {
    const emu = await emulator({ callbackRetries: 1, callbackRetryDelayMs: 5 });
    const robot = await robotUrl(0);
    emu.state.org.apps[0]!.botCallbackUrl = robot.url;
    emu.setFaults({ callbacks: { repushAnsweredRate: 1 } });
    await emu.postMessage(ENG, { from: 'lisi', text: 'help', atBot: true });
    expect(emu.acting.callbacks.map((c) => c.reason)).toEqual(['first', 'answered_repush']);
    expect(robot.msgIds).toHaveLength(2);
    expect(new Set(robot.msgIds).size).toBe(1);
    emu.setFaults({});
    await emu.postMessage(ENG, { from: 'lisi', text: 'tasks', atBot: true });
    expect(emu.acting.callbacks).toHaveLength(3);
  });

  it('the control API refuses a malformed callbacks fault', async () => {
    const emu = await emulator();
    const put = (body: unknown) =>
      fetch(`${emu.url}/_emulator/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put({ callbacks: { repushAnsweredRate: 2 } })).status).toBe(400);
    expect((await put({ callbacks: 'x' })).status).toBe(400);
    expect((await put({ callbacks: { repushAnsweredRate: 0.5 } })).status).toBe(200);
    expect(emu.faults().callbacks).toEqual({ repushAnsweredRate: 0.5 });
  });
});

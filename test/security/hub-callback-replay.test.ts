/**
 * Callback replay, the hub half: a hub that receives DingTalk's HTTP callbacks (`inbound.mode: 'http'`) on its own
 * server, `POST /callbacks/robot` and `/callbacks/events`. These routes take no API token (DingTalk signs them), so
 * the signature check is the only gate, and a signature proves origin, not freshness: a robot callback signs only
 * its timestamp (docs/dingtalk.md §9a), so a captured `timestamp`/`sign` pair is good for an hour with any body.
 *
 * Attacks, over loopback against a real hub (store, inbox, dispatcher, emulator):
 * - one captured chat command replayed 3 times, then with a swapped body (another msgId, another command) under the
 *   same pair: every copy is answered 200, the command is applied once; the swapped one is answered 500 and never
 *   applied (it may be a genuine message pushed in the same millisecond: DingTalk then sends it again);
 * - one encrypted event push sent 3 times: one inbox entry, every copy gets the encrypted `success`;
 * - on PostgreSQL, two hub processes on one database: the replay sent to the other process is caught there;
 * - a forged signature, a bad event signature, a body steering `sessionWebhook` to a loopback trap: 4xx and nothing
 *   in the inbox.
 * Twins: `callbackReplay: false` (no memory) and one in-memory store per process show the swapped body lands.
 */

import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CallbackEvent,
  EventCrypto,
  MemorySeenStore,
  type ReplyEnvelope,
  signBotCallback,
} from '../../src/callback/index.js';
import { digestKey } from '../../src/callback/replay-guard.js';
import { launchHub } from '../../src/cli/launch-hub.js';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import type { ApiTokenVerifier } from '../../src/server/auth.js';
import { StoreSeenStore } from '../../src/store/seen-store.js';
import { backends } from '../conformance/backends.js';
import { ENG, type HubFixture, startTestHub, testConfig, waitFor } from '../e2e/hub-helpers.js';

const HTTP = { inbound: { mode: 'http' } };
/** The callback routes take no token; every token-guarded route refuses everything here. */
const noTokens: ApiTokenVerifier = {
  verify: async () => undefined,
  check: async () => ({ ok: false, reason: 'unknown' }) as never,
};

interface Running {
  hub: RunningHub<Emulator>;
  server: ApiServer;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function serveHub(hub: RunningHub<Emulator>): Promise<ApiServer> {
  const server = await createApiServer(hub, {
    tokens: noTokens,
    ...(hub.callbacks ? { callbacks: hub.callbacks } : {}),
  });
  cleanups.push(() => server.close());
  return server;
}

async function start(
  backend: (typeof backends)[number],
  extra: Record<string, unknown> = {},
): Promise<Running & { fx: HubFixture }> {
  const fx = await startTestHub(backend, { config: testConfig(HTTP), ...extra });
  cleanups.push(() => fx.cleanup());
  return { fx, hub: fx.hub, server: await serveHub(fx.hub) };
}

function appOf(hub: RunningHub<Emulator>) {
  const app = hub.emulator!.state.org.apps[0]!;
  return { appKey: app.appKey, appSecret: app.appSecret, callback: app.callback! };
}

/** The event-subscription crypto of the emulator's app, as DingTalk holds it. */
function cryptoOf(hub: RunningHub<Emulator>): EventCrypto {
  const app = appOf(hub);
  return new EventCrypto({ token: app.callback.token, aesKey: app.callback.aesKey, ownerKey: app.appKey });
}

/** A robot callback as DingTalk sends it (§9a), from lisi in the engineering group. */
function botBody(
  hub: RunningHub<Emulator>,
  msgId: string,
  text: string,
  extra: Record<string, unknown> = {},
) {
  const app = appOf(hub);
  const now = Date.now();
  return JSON.stringify({
    msgtype: 'text',
    text: { content: ` ${text}` },
    msgId,
    createAt: now,
    conversationType: '2',
    conversationId: ENG,
    conversationTitle: '研发群 Engineering',
    senderId: '$:LWCP_v1:$unionLiSi00000002',
    senderNick: '李四',
    senderStaffId: 'lisi',
    robotCode: app.appKey,
    isInAtList: true,
    sessionWebhook: `${hub.emulator!.url}/robot/sendBySession?session=captured`,
    sessionWebhookExpiredTime: now + 5_400_000,
    ...extra,
  });
}

function signedHeaders(hub: RunningHub<Emulator>, ts: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    timestamp: String(ts),
    sign: signBotCallback(appOf(hub).appSecret, ts),
  };
}

async function post(url: string, headers: Record<string, string>, body: string) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, unknown> };
}

async function inboxIds(hub: RunningHub<Emulator>, like: string): Promise<string[]> {
  const rows = await hub.store.db.selectFrom('inbox').select('id').where('id', 'like', like).execute();
  return rows.map((r) => r.id).sort();
}

async function openTask(hub: RunningHub<Emulator>, title: string): Promise<number> {
  return (await hub.assignTask({ title, assignees: ['lisi'], group: 'engineering' }, { by: 'test' })).id;
}

async function stateOf(hub: RunningHub<Emulator>, id: number): Promise<string | undefined> {
  await hub.drainInbox();
  return (await hub.getTask(id))?.state;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub HTTP callbacks: replay and forgery (${backend.name})`, () => {
    it('a captured chat command replayed 3 times and with a swapped body: copies answered 200 and applied once, the swapped body 500', async () => {
      const { hub, server } = await start(backend);
      const id = await openTask(hub, 'replay-robot');
      const captured = signedHeaders(hub, Date.now());
      const original = botBody(hub, 'msgReplay0001', `start ${id}`);
      for (let i = 0; i < 4; i++) {
        expect(await post(`${server.url}/callbacks/robot`, captured, original)).toEqual({
          status: 200,
          body: { msgtype: 'empty' },
        });
      }
      await waitFor(async () => (await stateOf(hub, id)) === 'in_progress', 5_000, 'start applied');
      // Same pair, another message: an attacker's body, or a second message DingTalk pushed in the same millisecond
      // (a robot signature covers only the timestamp, §9a). Never believed, and never answered success either: a 500,
      // so DingTalk sends a genuine one again under a new timestamp, which a replayer cannot make.
      const swapped = botBody(hub, 'msgForged0002', `done ${id}`);
      expect((await post(`${server.url}/callbacks/robot`, captured, swapped)).status).toBe(500);
      await hub.drainInbox();
      expect(await inboxIds(hub, 'bot:%')).toEqual(['bot:msgReplay0001']);
      const task = (await hub.getTask(id))!;
      expect(task.state).toBe('in_progress');
      expect(task.history.filter((e) => e.kind === 'start')).toHaveLength(1);
      // The one answer to the command went out (through the outbox as an app-robot message), and only one. Written in
      // the task's own group, that answer is the group's announcement of the move.
      const answer = `Task #${id} started by 李四: replay-robot`;
      await waitFor(() => hub.emulator!.messages(ENG).some((m) => m.text.startsWith(answer)), 5_000, 'reply');
      await hub.drainInbox();
      expect(hub.emulator!.messages(ENG).filter((m) => m.text.startsWith(answer))).toHaveLength(1);
    });

    it('twin: without the replay memory the swapped body under the captured pair is applied', async () => {
      const { hub, server } = await start(backend, { callbackReplay: false });
      const id = await openTask(hub, 'replay-robot-twin');
      const captured = signedHeaders(hub, Date.now());
      await post(`${server.url}/callbacks/robot`, captured, botBody(hub, 'msgTwin0001', `start ${id}`));
      await waitFor(async () => (await stateOf(hub, id)) === 'in_progress', 5_000, 'start applied');
      const r = await post(
        `${server.url}/callbacks/robot`,
        captured,
        botBody(hub, 'msgTwin0002', `done ${id}`),
      );
      expect(r.status).toBe(200);
      await waitFor(async () => (await stateOf(hub, id)) === 'done', 5_000, 'forged done applied');
    });

    it('one encrypted event push sent 3 times: one inbox entry, each copy gets the encrypted success', async () => {
      const { hub, server } = await start(backend);
      const crypto = cryptoOf(hub);
      const event: CallbackEvent = {
        EventType: 'dingkit_test_event',
        EventId: `evt-replay-${backend.name}`,
        n: 1,
      };
      const encrypt = crypto.encrypt(JSON.stringify(event));
      const timestamp = String(Date.now());
      const nonce = 'nonceHubReplay1';
      const qs = new URLSearchParams({
        msg_signature: crypto.sign(timestamp, nonce, encrypt),
        timestamp,
        nonce,
      });
      for (let i = 0; i < 3; i++) {
        const r = await post(
          `${server.url}/callbacks/events?${qs}`,
          { 'content-type': 'application/json' },
          JSON.stringify({ encrypt }),
        );
        expect(r.status).toBe(200);
        const e = r.body as unknown as ReplyEnvelope;
        expect(crypto.verify(e.msg_signature, e.timeStamp, e.nonce, e.encrypt)).toBe(true);
        expect(crypto.decrypt(e.encrypt)).toBe('success');
      }
      expect(await inboxIds(hub, 'event:%')).toEqual([`event:evt-replay-${backend.name}`]);
      const row = await hub.inbox.get(`event:evt-replay-${backend.name}`);
      expect(row?.source).toBe('http');
      expect(JSON.parse(row!.payload)).toEqual({
        eventType: 'dingkit_test_event',
        data: { EventId: `evt-replay-${backend.name}`, n: 1 },
      });
    });

    it('forged robot signature, bad event signature, steered sessionWebhook: 4xx and nothing in the inbox', async () => {
      const { hub, server } = await start(backend);
      const id = await openTask(hub, 'forged');
      const ts = Date.now();
      const forged = { ...signedHeaders(hub, ts), sign: signBotCallback('not-the-app-secret', ts) };
      const r1 = await post(`${server.url}/callbacks/robot`, forged, botBody(hub, 'msgForge1', `done ${id}`));
      expect(r1.status).toBe(401);
      const r2 = await post(
        `${server.url}/callbacks/robot`,
        { 'content-type': 'application/json' },
        botBody(hub, 'msgForge2', `done ${id}`),
      );
      expect(r2.status).toBe(401);
      const steered = botBody(hub, 'msgForge3', `done ${id}`, {
        sessionWebhook: 'http://127.0.0.1:9/robot/sendBySession?session=trap',
      });
      const r3 = await post(`${server.url}/callbacks/robot`, signedHeaders(hub, ts + 1), steered);
      expect(r3).toEqual({
        status: 400,
        body: { error: 'bad_request', reason: 'session_webhook_not_allowed' },
      });
      const app = appOf(hub);
      const wrong = new EventCrypto({
        token: 'attackerToken1',
        aesKey: app.callback.aesKey,
        ownerKey: app.appKey,
      });
      const encrypt = wrong.encrypt(
        JSON.stringify({ EventType: 'dingkit_test_event', EventId: 'evt-forged' }),
      );
      const t = String(Date.now());
      const qs = new URLSearchParams({
        msg_signature: wrong.sign(t, 'n1', encrypt),
        timestamp: t,
        nonce: 'n1',
      });
      const r4 = await post(
        `${server.url}/callbacks/events?${qs}`,
        { 'content-type': 'application/json' },
        JSON.stringify({ encrypt }),
      );
      expect(r4.status).toBeGreaterThanOrEqual(400);
      expect(r4.status).toBeLessThan(500);
      await hub.drainInbox();
      expect(await inboxIds(hub, '%')).toEqual([]);
      expect((await hub.getTask(id))?.state).toBe('open');
      // Nothing about the secrets in any answer.
      for (const r of [r1, r2, r3, r4]) {
        const text = JSON.stringify(r.body);
        expect(text).not.toContain(app.appSecret);
        expect(text).not.toContain(app.callback.aesKey);
      }
    });

    it('the store keeps digests only, and retention deletes the expired ones', async () => {
      const { hub, server } = await start(backend);
      const ts = Date.now();
      const r = await post(
        `${server.url}/callbacks/robot`,
        signedHeaders(hub, ts),
        botBody(hub, 'msgKept0001', 'help'),
      );
      expect(r.status).toBe(200);
      await new StoreSeenStore(hub.store).firstSeen('bot:sig:expired', Date.now() - 1);
      const keys = async () =>
        (await hub.store.db.selectFrom('kv').select('key').where('key', 'like', 'seen:%').execute())
          .map((k) => k.key)
          .sort();
      const before = await keys();
      // The signature pair only: the msgId is the inbox's key (see the next test).
      expect(before).toHaveLength(2);
      const live = before.filter((k) => k !== 'seen:bot:sig:expired');
      expect(live).toHaveLength(1);
      for (const k of live) expect(k).toMatch(/^seen:bot:sig:[0-9a-f]{64}$/);
      expect(JSON.stringify(before)).not.toContain('msgKept0001');
      expect((await hub.purge()).ran).toBe(true);
      expect(await keys()).toEqual(live);
    });

    it('a callback claimed by a process that died before storing it is taken when DingTalk sends it again', async () => {
      const { hub, server } = await start(backend);
      const id = await openTask(hub, 'crash-window');
      const app = appOf(hub);
      const ts1 = Date.now() - 5_000;
      // What a process that died between claiming the callback and the inbox commit leaves: keys, no inbox entry.
      const dead = new StoreSeenStore(hub.store);
      for (const key of [
        digestKey('bot', 'sig', String(ts1), signBotCallback(app.appSecret, ts1)),
        digestKey('bot', 'msg', 'msgCrash0001'),
      ]) {
        expect(await dead.firstSeen(key, ts1 + 3_600_001)).toBe(true);
      }
      // DingTalk's retry: the same message, signed anew. The inbox, not the replay memory, knows msgIds.
      const retry = botBody(hub, 'msgCrash0001', `start ${id}`);
      expect(
        (await post(`${server.url}/callbacks/robot`, signedHeaders(hub, Date.now()), retry)).status,
      ).toBe(200);
      await waitFor(async () => (await stateOf(hub, id)) === 'in_progress', 5_000, 'retry applied');
      // ...and once it is stored, DingTalk sending it yet again is a duplicate of the inbox entry.
      expect(
        (await post(`${server.url}/callbacks/robot`, signedHeaders(hub, Date.now() + 1), retry)).status,
      ).toBe(200);
      await hub.drainInbox();
      expect((await hub.getTask(id))!.history.filter((e) => e.kind === 'start')).toHaveLength(1);
    });

    it('the same signed callback retried after a process died between claim and commit: applied exactly once', async () => {
      const { hub, server } = await start(backend);
      const id = await openTask(hub, 'crash-same-signature');
      const captured = signedHeaders(hub, Date.now());
      const body = botBody(hub, 'msgCrash0002', `start ${id}`);
      // The process dies at its inbox commit: the commit never happens, and nothing runs after it (a dead process
      // forgets nothing), so whatever was claimed before the commit stays as written.
      const commit = vi.spyOn(hub.inbox, 'commit').mockRejectedValueOnce(new Error('process killed'));
      const forget = vi
        .spyOn(StoreSeenStore.prototype, 'forget')
        .mockRejectedValue(new Error('process killed'));
      cleanups.push(async () => {
        commit.mockRestore();
        forget.mockRestore();
      });
      expect((await post(`${server.url}/callbacks/robot`, captured, body)).status).toBe(500);
      expect(commit).toHaveBeenCalledTimes(1);
      expect(await inboxIds(hub, 'bot:%')).toEqual([]);
      forget.mockRestore();
      // DingTalk's retry: the very same request, same timestamp/sign. It must be stored and applied.
      expect(await post(`${server.url}/callbacks/robot`, captured, body)).toEqual({
        status: 200,
        body: { msgtype: 'empty' },
      });
      expect(await inboxIds(hub, 'bot:%')).toEqual(['bot:msgCrash0002']);
      await waitFor(async () => (await stateOf(hub, id)) === 'in_progress', 5_000, 'retry applied');
      // Once stored, further copies are replays: answered, applied by no one.
      for (let i = 0; i < 2; i++) {
        expect((await post(`${server.url}/callbacks/robot`, captured, body)).status).toBe(200);
      }
      await hub.drainInbox();
      expect(await inboxIds(hub, 'bot:%')).toEqual(['bot:msgCrash0002']);
      expect((await hub.getTask(id))!.history.filter((e) => e.kind === 'start')).toHaveLength(1);
    });

    it('the same encrypted push retried after a process died between claim and commit: one inbox entry', async () => {
      const { hub, server } = await start(backend);
      const crypto = cryptoOf(hub);
      const encrypt = crypto.encrypt(
        JSON.stringify({ EventType: 'dingkit_test_event', EventId: `evt-crash-${backend.name}` }),
      );
      const timestamp = String(Date.now());
      const nonce = 'nonceHubCrash1';
      const url = `${server.url}/callbacks/events?${new URLSearchParams({
        msg_signature: crypto.sign(timestamp, nonce, encrypt),
        timestamp,
        nonce,
      })}`;
      const send = () => post(url, { 'content-type': 'application/json' }, JSON.stringify({ encrypt }));
      const commit = vi.spyOn(hub.inbox, 'commit').mockRejectedValueOnce(new Error('process killed'));
      const forget = vi
        .spyOn(StoreSeenStore.prototype, 'forget')
        .mockRejectedValue(new Error('process killed'));
      cleanups.push(async () => {
        commit.mockRestore();
        forget.mockRestore();
      });
      expect((await send()).status).toBe(500);
      expect(commit).toHaveBeenCalledTimes(1);
      forget.mockRestore();
      for (let i = 0; i < 3; i++) {
        const r = await send();
        expect(r.status).toBe(200);
        const e = r.body as unknown as ReplyEnvelope;
        expect(crypto.decrypt(e.encrypt)).toBe('success');
      }
      expect(await inboxIds(hub, 'event:%')).toEqual([`event:evt-crash-${backend.name}`]);
    });

    it('no callback routes unless configured: a stream-mode hub answers 404', async () => {
      const fx = await startTestHub(backend);
      cleanups.push(() => fx.cleanup());
      const server = await serveHub(fx.hub);
      const ts = Date.now();
      const r = await post(
        `${server.url}/callbacks/robot`,
        signedHeaders(fx.hub, ts),
        botBody(fx.hub, 'msgX', 'help'),
      );
      expect(r.status).toBe(404);
    });
  });
}

describe('callbacks behind a public host name (exempt from the Host check, server.allowedHosts)', () => {
  it('DingTalk calling hub.example.com is taken without listing the name; the API under that name is not', async () => {
    const fx = await startTestHub(backends[0]!, { config: testConfig(HTTP) });
    cleanups.push(() => fx.cleanup());
    const hub = fx.hub;
    const server = await serveHub(hub);
    // The callbacks arrive under whatever public name DingTalk was given; their signature is the gate.
    const res = await request(`${server.url}/callbacks/robot`, {
      method: 'POST',
      headers: { ...signedHeaders(hub, Date.now()), host: 'hub.example.com' },
      body: botBody(hub, 'msgHost1', 'help'),
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(await inboxIds(hub, 'bot:%')).toEqual(['bot:msgHost1']);
    // The rest of the API under an unlisted name is still a DNS-rebinding attempt.
    const api = await request(`${server.url}/v1/health`, { headers: { host: 'hub.example.com' } });
    await api.body.text();
    expect(api.statusCode).toBe(403);
  });
});

const pg = backends.find((b) => b.name === 'postgres')!;
describe.skipIf(pg.skip)('two hub processes on one PostgreSQL database', () => {
  async function twoHubs(second: Record<string, unknown> = {}) {
    const a = await start(pg);
    // A second process: its own hub, emulator and server, on the same database.
    const storeB = await a.fx.reopen();
    // One DingTalk behind both processes: B accepts A's emulator as the sessionWebhook origin too.
    const configB = testConfig({
      inbound: { mode: 'http', http: { sessionWebhookOrigins: [a.hub.emulator!.url] } },
    });
    const hubB = await launchHub({ config: configB, store: storeB, inboxPollMs: 50, ...second });
    cleanups.push(() => hubB.stop());
    const serverB = await serveHub(hubB);
    return { a, b: { hub: hubB, server: serverB } };
  }

  it('a callback replayed to the other process is answered there and applied once in total', async () => {
    const { a, b } = await twoHubs();
    const id = await openTask(a.hub, 'two-processes');
    const captured = signedHeaders(a.hub, Date.now());
    const original = botBody(a.hub, 'msgTwoProc1', `start ${id}`);
    expect((await post(`${a.server.url}/callbacks/robot`, captured, original)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect(await post(`${b.server.url}/callbacks/robot`, captured, original)).toEqual({
        status: 200,
        body: { msgtype: 'empty' },
      });
    }
    const swapped = botBody(a.hub, 'msgTwoProc2', `done ${id}`);
    expect((await post(`${b.server.url}/callbacks/robot`, captured, swapped)).status).toBe(500);
    await waitFor(async () => (await stateOf(a.hub, id)) === 'in_progress', 5_000, 'start applied');
    await b.hub.drainInbox();
    expect(await inboxIds(a.hub, 'bot:%')).toEqual(['bot:msgTwoProc1']);
    const task = (await a.hub.getTask(id))!;
    expect(task.state).toBe('in_progress');
    expect(task.history.filter((e) => e.kind === 'start')).toHaveLength(1);
  });

  it('the same pair sent to both processes at once, with two bodies: exactly one is stored', async () => {
    const { a, b } = await twoHubs();
    const id = await openTask(a.hub, 'two-processes-race');
    for (let round = 0; round < 5; round++) {
      const captured = signedHeaders(a.hub, Date.now() + round);
      const answers = await Promise.all([
        post(`${a.server.url}/callbacks/robot`, captured, botBody(a.hub, `msgRaceA${round}`, 'help')),
        post(`${b.server.url}/callbacks/robot`, captured, botBody(a.hub, `msgRaceB${round}`, 'help')),
        post(`${b.server.url}/callbacks/robot`, captured, botBody(a.hub, `msgRaceC${round}`, 'help')),
      ]);
      // One is stored and answered success; the others, other bodies under its signature, get a 500 (not stored).
      expect(answers.map((r) => r.status).sort()).toEqual([200, 500, 500]);
      expect(await inboxIds(a.hub, `bot:msgRace_${round}`)).toHaveLength(1);
    }
    expect((await a.hub.getTask(id))?.state).toBe('open');
  });

  it('twin: one in-memory replay store per process lets the swapped body through the other process', async () => {
    const { a, b } = await twoHubs({ callbackReplay: new MemorySeenStore() });
    const id = await openTask(a.hub, 'two-processes-twin');
    const captured = signedHeaders(a.hub, Date.now());
    await post(`${a.server.url}/callbacks/robot`, captured, botBody(a.hub, 'msgTwinProc1', `start ${id}`));
    await waitFor(async () => (await stateOf(a.hub, id)) === 'in_progress', 5_000, 'start applied');
    await post(`${b.server.url}/callbacks/robot`, captured, botBody(a.hub, 'msgTwinProc2', `done ${id}`));
    await waitFor(async () => (await stateOf(a.hub, id)) === 'done', 5_000, 'forged done applied via B');
  });
});

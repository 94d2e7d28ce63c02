/**
 * Acting as people and the docs/dingtalk.md §11 "Callbacks" row, over real sockets: a card click becomes a card
 * CALLBACK frame; a Todo marked done by a user pushes an event (type configurable, unverified); fired events reach
 * Stream; encrypted HTTP event pushes (§9b) are verified by dingkit's own receiver, and the emulator requires the
 * encrypted `success` within the deadline (2.5 s by default, scaled to 300 ms here); HTTP bot callbacks carry the
 * `timestamp` + `sign` headers (§9a) that dingkit's bot receiver verifies.
 */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBotCallbackHandler,
  createCardCallbackHandler,
  createEventCallbackHandler,
  EventCrypto,
} from '../../src/callback/index.js';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { waitFor } from '../support/wait-for.js';
import { call, connectStream } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const eng = DEMO_ORG.org.groups[0]!;
const cb = app.callback!;
let emu: Emulator;
let token = '';
const servers: Server[] = [];

async function serve(handler: RequestListener): Promise<string> {
  const s = createServer(handler);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/cb`;
}

beforeAll(async () => {
  emu = await startEmulator({
    seed: 2,
    limits: { callbackTimeoutMs: 300 },
    todoDoneEventType: 'todo_change_test',
  });
  token = (
    await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: app.appSecret },
    })
  ).body.accessToken;
});
afterAll(async () => {
  await emu.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

describe('acting through the control API', () => {
  it('card click → card CALLBACK frame with the action; todo done → configured event with the task id', async () => {
    const app1 = await connectStream(emu.url, app.appKey, app.appSecret);
    try {
      await call(`${emu.url}/v1.0/card/instances/createAndDeliver`, {
        headers: { 'x-acs-dingtalk-access-token': token },
        body: {
          cardTemplateId: 'tpl',
          outTrackId: 'approve-7',
          cardData: { cardParamMap: { title: '请假' } },
          openSpaceId: `dtv1.card//IM_GROUP.${eng.openConversationId}`,
          imGroupOpenDeliverModel: { robotCode: app.robotCode },
        },
      });
      const click = await call(`${emu.url}/_emulator/cards/approve-7/click`, {
        body: { by: 'lisi', actionIds: ['agree'], params: { note: 'ok' } },
      });
      expect(click.status).toBe(200);
      await waitFor(() => app1.frames.some((f) => f.headers['topic'] === '/v1.0/card/instances/callback'));
      const frame = app1.frames.find((f) => f.headers['topic'] === '/v1.0/card/instances/callback')!;
      const data = JSON.parse(frame.data) as { outTrackId: string; userId: string; content: string };
      expect(data).toMatchObject({ outTrackId: 'approve-7', userId: 'lisi', type: 'actionCallback' });
      expect(JSON.parse(data.content)).toEqual({
        cardPrivateData: { actionIds: ['agree'], params: { note: 'ok' } },
      });

      const created = await call(`${emu.url}/v1.0/todo/users/${DEMO_ORG.org.users[0]!.unionId}/tasks`, {
        headers: { 'x-acs-dingtalk-access-token': token },
        body: { subject: 's', detailUrl: { pcUrl: 'https://e.test' }, executorIds: ['unionLiSi00000002'] },
      });
      const id = String(created.body['id']);
      expect(
        (await call(`${emu.url}/_emulator/todos/${id}/done`, { body: { by: 'unionBob000000005' } })).status,
      ).toBe(403);
      const done = await call(`${emu.url}/_emulator/todos/${id}/done`, { body: { by: 'unionLiSi00000002' } });
      expect(done.status).toBe(200);
      expect(emu.todos().find((t) => t.id === id)?.done).toBe(true);
      await waitFor(() => app1.frames.some((f) => f.headers['eventType'] === 'todo_change_test'));
      const ev = app1.frames.find((f) => f.headers['eventType'] === 'todo_change_test')!;
      expect(JSON.parse(ev.data)).toMatchObject({
        taskId: id,
        done: true,
        operatorUnionId: 'unionLiSi00000002',
      });

      const fired = await call(`${emu.url}/_emulator/events`, {
        body: { eventType: 'user_add_org', data: { UserId: ['bob'] }, eventId: 'ev-1' },
      });
      expect(fired.status).toBe(200);
      await waitFor(() => app1.frames.some((f) => f.headers['eventId'] === 'ev-1'));
      expect(
        (await call(`${emu.url}/_emulator/events`, { body: { eventType: 'x', via: 'pigeon' } })).status,
      ).toBe(400);
    } finally {
      await app1.close();
    }
  });
});

describe('encrypted HTTP event callbacks (§9b)', () => {
  const received: string[] = [];
  const crypto = () => new EventCrypto({ token: cb.token, aesKey: cb.aesKey, ownerKey: app.appKey });

  it('a receiver built on src/callback decrypts the push and its encrypted success is accepted', async () => {
    const handler = createEventCallbackHandler({
      crypto: crypto(),
      onEvent: (e) => void received.push(String(e.EventType)),
    });
    const url = await serve(handler.node);
    const r = await call(`${emu.url}/_emulator/callbacks/push`, {
      body: { url, eventType: 'org_dept_create', data: { DeptId: [1] } },
    });
    expect(r.body).toMatchObject({ ok: true, result: 'ok', eventType: 'org_dept_create' });
    expect(received).toEqual(['org_dept_create']);
  });

  it('rejects a plain "success", a reply signed with the wrong token, a slow reply (deadline), a 500', async () => {
    const plain = await serve((_q, s) => s.end('success'));
    const wrong = await serve((_q, s) => {
      const c = new EventCrypto({ token: 'otherToken', aesKey: cb.aesKey, ownerKey: app.appKey });
      s.setHeader('content-type', 'application/json');
      s.end(JSON.stringify(c.reply('success')));
    });
    const slow = await serve((_q, s) => {
      setTimeout(() => s.end(JSON.stringify(crypto().reply('success'))), 600);
    });
    const notSuccess = await serve((_q, s) => s.end(JSON.stringify(crypto().reply('fail'))));
    const err = await serve((_q, s) => {
      s.statusCode = 500;
      s.end();
    });
    const push = async (url: string) =>
      (await call(`${emu.url}/_emulator/callbacks/push`, { body: { url, eventType: 'x' } })).body['result'];
    expect(await push(plain)).toBe('bad_reply');
    expect(await push(wrong)).toBe('bad_signature');
    expect(await push(slow)).toBe('timeout');
    expect(await push(notSuccess)).toBe('not_success');
    expect(await push(err)).toBe('http_500');
    expect(emu.acting.callbacks.filter((c) => !c.ok)).toHaveLength(5);
  });

  it('twin: the same slow receiver passes when the deadline is the default 2.5 s (the timeout check can fail)', async () => {
    const slow = await serve((_q, s) => {
      setTimeout(() => s.end(JSON.stringify(crypto().reply('success'))), 400);
    });
    const twin = await startEmulator({ seed: 2 });
    try {
      expect((await twin.pushCallback({ url: slow, eventType: 'x' })).result).toBe('ok');
    } finally {
      await twin.close();
    }
  });
});

describe('HTTP-mode bot callbacks (§9a)', () => {
  it('carry timestamp + sign that dingkit verifies; an inline reply is recorded in the group', async () => {
    const seen: string[] = [];
    const handler = createBotCallbackHandler({
      appSecret: app.appSecret,
      // The emulator's pushes name its own session webhook (§9a); DingTalk's hosts alone would refuse them.
      sessionWebhookOrigins: [emu.url],
      onMessage: (m) => {
        seen.push(m.text?.content ?? '');
        return { msgtype: 'text', text: { content: 'inline ok' } };
      },
    });
    const url = await serve(handler.node);
    const a = emu.state.apps.get(app.appKey)!;
    a.botCallbackUrl = url;
    try {
      const r = await emu.postMessage(eng.openConversationId, { from: 'bob', text: 'status?', atBot: true });
      expect(r.http).toMatchObject({ ok: true, result: 'ok' });
      expect(seen).toEqual([' status?']);
      expect(emu.messages(eng.openConversationId).at(-1)).toMatchObject({
        source: 'inline_reply',
        text: 'inline ok',
      });
      // Twin: a receiver holding another secret refuses the same push (the sign header is really checked).
      const strict = createBotCallbackHandler({ appSecret: 'not-the-secret', onMessage: () => undefined });
      a.botCallbackUrl = await serve(strict.node);
      const r2 = await emu.postMessage(eng.openConversationId, { from: 'bob', text: 'again', atBot: true });
      expect(r2.http?.result).toBe('http_401');
    } finally {
      delete a.botCallbackUrl;
    }
  });
});

describe('HTTP card callbacks (§10) and 1:1 chats (§9a)', () => {
  it('a registered HTTP card callback is signed with the apiSecret; its cardData answer updates the card', async () => {
    const clicks: string[] = [];
    const handler = createCardCallbackHandler({
      apiSecret: 'cardApiSecret123',
      onAction: (c) => {
        clicks.push(c.userId);
        return { cardData: { cardParamMap: { status: '已处理' } } };
      },
    });
    const url = await serve(handler.node);
    const h = { 'x-acs-dingtalk-access-token': token };
    const reg = await call(`${emu.url}/v1.0/card/callbacks/register`, {
      headers: h,
      body: { callbackRouteKey: 'hub', callbackUrl: url, apiSecret: 'cardApiSecret123' },
    });
    expect(reg.body['success']).toBe(true);
    await call(`${emu.url}/v1.0/card/instances/createAndDeliver`, {
      headers: h,
      body: {
        cardTemplateId: 'tpl',
        outTrackId: 'http-card',
        cardData: { cardParamMap: { status: '待处理' } },
        openSpaceId: `dtv1.card//IM_GROUP.${eng.openConversationId}`,
        imGroupOpenDeliverModel: { robotCode: app.robotCode },
        callbackType: 'HTTP',
        callbackRouteKey: 'hub',
      },
    });
    const r = await emu.clickCard('http-card', { by: 'wangwu', actionIds: ['done'] });
    expect(r.http).toMatchObject({ ok: true, eventType: 'card_callback' });
    expect(clicks).toEqual(['wangwu']);
    expect(emu.state.cards.get('http-card')?.cardParamMap['status']).toBe('已处理');
    // Twin: a receiver expecting another secret refuses the same click (the signature header is real).
    const strict = createCardCallbackHandler({ apiSecret: 'other', onAction: () => ({}) });
    emu.state.apps.get(app.appKey)!.cardCallback = {
      routeKey: 'hub',
      url: await serve(strict.node),
      apiSecret: 'cardApiSecret123',
    };
    expect((await emu.clickCard('http-card', { by: 'wangwu' })).http?.ok).toBe(false);
  });

  it('a person writes 1:1: the bot gets conversationType "1", replies via sessionWebhook into oto:<userId>; read marks', async () => {
    const s = await connectStream(emu.url, app.appKey, app.appSecret);
    try {
      const r = await call<{ frameMessageId: string; sessionWebhook: string; message: { seq: number } }>(
        `${emu.url}/_emulator/users/alice/messages`,
        { body: { text: '帮我查一下' } },
      );
      expect(r.status).toBe(200);
      await waitFor(() => s.frames.some((f) => f.headers['messageId'] === r.body.frameMessageId));
      const f = s.frames.find((x) => x.headers['messageId'] === r.body.frameMessageId)!;
      expect(JSON.parse(f.data)).toMatchObject({
        conversationType: '1',
        senderStaffId: 'alice',
        text: { content: '帮我查一下' },
      });
      const reply = await call(r.body.sessionWebhook, {
        body: { msgtype: 'markdown', markdown: { title: 't', text: '好的' } },
      });
      expect(reply.body['errcode']).toBe(0);
      expect(emu.messages('oto:alice').map((m) => m.source)).toEqual(['user', 'session_webhook']);
      expect((await call(`${emu.url}/_emulator/users/ghost/messages`, { body: { text: 'x' } })).status).toBe(
        404,
      );
    } finally {
      await s.close();
    }
    const sent = await call(`${emu.url}/v1.0/robot/oToMessages/batchSend`, {
      headers: { 'x-acs-dingtalk-access-token': token },
      body: {
        robotCode: app.robotCode,
        userIds: ['bob'],
        msgKey: 'sampleText',
        msgParam: '{"content":"read?"}',
      },
    });
    const key = String(sent.body['processQueryKey']);
    const seq = emu.messages('oto:bob').at(-1)!.seq;
    expect((await call(`${emu.url}/_emulator/messages/${seq}/read`, { body: { by: 'alice' } })).status).toBe(
      403,
    );
    expect((await call(`${emu.url}/_emulator/messages/${seq}/read`, { body: { by: 'bob' } })).status).toBe(
      200,
    );
    const st = await call(
      `${emu.url}/v1.0/robot/oToMessages/readStatus?robotCode=${app.robotCode}&processQueryKey=${encodeURIComponent(key)}`,
      {
        headers: { 'x-acs-dingtalk-access-token': token },
      },
    );
    expect(st.body['messageReadInfoList']).toEqual([
      { name: 'Bob Li', userId: 'bob', readStatus: 'READ', readTimestamp: 0 },
    ]);
  });
});

describe('files people send to the robot (§9a downloadCode, §3.1 messageFiles/download)', () => {
  it('1:1 file and group @bot picture carry a downloadCode the app trades for the bytes', async () => {
    const s = await connectStream(emu.url, app.appKey, app.appSecret);
    try {
      const pdf = Buffer.from('%PDF-1.4 周报');
      const r = await call<{ frameMessageId: string }>(`${emu.url}/_emulator/users/zhangsan/messages`, {
        body: {
          file: {
            fileName: '周报.pdf',
            contentBase64: pdf.toString('base64'),
            contentType: 'application/pdf',
          },
        },
      });
      expect(r.status).toBe(200);
      await waitFor(() => s.frames.some((f) => f.headers['messageId'] === r.body.frameMessageId));
      const data = JSON.parse(
        s.frames.find((f) => f.headers['messageId'] === r.body.frameMessageId)!.data,
      ) as {
        msgtype: string;
        content: { downloadCode: string; fileName: string };
      };
      expect(data).toMatchObject({ msgtype: 'file', content: { fileName: '周报.pdf' } });
      const h = { 'x-acs-dingtalk-access-token': token };
      const dl = await call<{ downloadUrl: string }>(`${emu.url}/v1.0/robot/messageFiles/download`, {
        headers: h,
        body: { downloadCode: data.content.downloadCode, robotCode: app.robotCode },
      });
      expect(dl.status).toBe(200);
      const bytes = Buffer.from(await (await fetch(dl.body.downloadUrl)).arrayBuffer());
      expect(bytes.equals(pdf)).toBe(true);
      const bad = await call(`${emu.url}/v1.0/robot/messageFiles/download`, {
        headers: h,
        body: { downloadCode: 'nope', robotCode: app.robotCode },
      });
      expect([bad.status, bad.body['code']]).toEqual([400, 'invalidParameter.downloadCode.invalid']);

      const pic = await emu.postMessage(eng.openConversationId, {
        from: 'lisi',
        atBot: true,
        picture: { contentBase64: Buffer.from([137, 80, 78, 71]).toString('base64') },
      });
      await waitFor(() => s.frames.some((f) => f.headers['messageId'] === pic.frameMessageId));
      const pd = JSON.parse(
        s.frames.find((f) => f.headers['messageId'] === pic.frameMessageId)!.data,
      ) as Record<string, unknown>;
      expect(pd).toMatchObject({
        msgtype: 'picture',
        content: { downloadCode: expect.stringMatching(/^dl/) },
      });
      expect(pd['text']).toBeUndefined();
      expect(
        (
          await call(`${emu.url}/_emulator/users/zhangsan/messages`, {
            body: { file: { contentBase64: 'AA==' } },
          })
        ).status,
      ).toBe(400);
    } finally {
      await s.close();
    }
  });
});

describe('saving an event callback URL (§9b check_url)', () => {
  it('keeps the URL only when the check_url push is answered with the encrypted success', async () => {
    const good = createEventCallbackHandler({
      crypto: new EventCrypto({ token: 'newToken1', aesKey: cb.aesKey, ownerKey: app.appKey }),
      onEvent: () => undefined,
    });
    const goodUrl = await serve(good.node);
    const badUrl = await serve((_q, s) => s.end('success'));
    const put = (b: unknown) =>
      call(`${emu.url}/_emulator/apps/${app.appKey}/callback`, { method: 'PUT', body: b });
    const before = emu.state.apps.get(app.appKey)!.callback;
    const refused = await put({ url: badUrl, token: 'newToken1' });
    expect([refused.status, refused.body['error']]).toEqual([409, 'check_url failed: bad_reply']);
    expect(emu.state.apps.get(app.appKey)!.callback).toEqual(before);
    expect((await put({ url: goodUrl, token: 'x' })).status).toBe(400);
    const ok = await put({ url: goodUrl, token: 'newToken1' });
    expect(ok.status).toBe(200);
    expect(emu.state.apps.get(app.appKey)!.callback).toMatchObject({ url: goodUrl, token: 'newToken1' });
    expect((await put({ url: badUrl, verify: false })).status).toBe(200);
  });
});

describe('HTTP event retries (§9b: undelivered events are pushed again; schedule unverified, a setting)', () => {
  it('pushes again until the encrypted success, recording every attempt; with 0 retries one failure is final', async () => {
    let hits = 0;
    const handler = createEventCallbackHandler({
      crypto: new EventCrypto({ token: cb.token, aesKey: cb.aesKey, ownerKey: app.appKey }),
      onEvent: () => {
        hits++;
        if (hits < 3) throw new Error('not yet');
      },
    });
    const url = await serve(handler.node);
    const retrying = await startEmulator({
      seed: 5,
      limits: { callbackRetries: 3, callbackRetryDelayMs: 10 },
    });
    try {
      const r = await retrying.pushCallback({ url, eventType: 'user_add_org' });
      expect(r.ok).toBe(true);
      expect(retrying.acting.callbacks.map((c) => c.result)).toEqual(['http_500', 'http_500', 'ok']);
    } finally {
      await retrying.close();
    }
    hits = 0;
    const once = await startEmulator({ seed: 5 });
    try {
      expect((await once.pushCallback({ url, eventType: 'user_add_org' })).result).toBe('http_500');
      expect(once.acting.callbacks).toHaveLength(1);
    } finally {
      await once.close();
    }
  });
});

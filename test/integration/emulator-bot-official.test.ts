/**
 * A person @-mentions the app robot through the control API; the official `dingtalk-stream` DWClient (2.1.5)
 * receives the bot CALLBACK over the emulator's mounted gateway, replies through the `sessionWebhook` the emulator
 * serves (docs/dingtalk.md §9a), and the reply is recorded in the group after the user's message.
 *
 * Redirect: the SDK hard-codes https://api.dingtalk.com; an interceptor on the axios instance it resolves
 * rewrites that to the emulator (same technique as emulator-stream-official.test.ts), failing closed.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { waitFor } from '../support/wait-for.js';

interface SdkFrame {
  headers: Record<string, string>;
  data: string;
}
interface DWClientLike {
  registerCallbackListener(topic: string, fn: (msg: SdkFrame) => void): DWClientLike;
  socketCallBackResponse(messageId: string, result: unknown): void;
  connect(): Promise<void>;
  disconnect(): void;
}
interface AxiosLike {
  interceptors: {
    request: { use(fn: (cfg: { url?: string }) => { url?: string }): number; eject(id: number): void };
  };
}

const requireCjs = createRequire(import.meta.url);
const sdkEntry = requireCjs.resolve('dingtalk-stream');
const sdk = requireCjs(sdkEntry) as {
  DWClient: new (opts: { clientId: string; clientSecret: string }) => DWClientLike;
  TOPIC_ROBOT: string;
};
const sdkAxios = createRequire(sdkEntry)('axios') as AxiosLike;

const app = DEMO_ORG.org.apps[0]!;
const group = DEMO_ORG.org.groups[0]!;

let emu: Emulator;
let interceptorId = -1;
let client: DWClientLike | undefined;

beforeAll(async () => {
  emu = await startEmulator({ seed: 3 });
  interceptorId = sdkAxios.interceptors.request.use((cfg) => {
    const url = cfg.url ?? '';
    const local = url.replace(/^https:\/\/(api|oapi)\.dingtalk\.com/, emu.url);
    if (!local.startsWith(emu.url)) throw new Error(`refusing non-local URL ${url}`);
    return { ...cfg, url: local };
  });
  vi.spyOn(console, 'info').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

afterAll(async () => {
  client?.disconnect();
  sdkAxios.interceptors.request.eject(interceptorId);
  await emu.close();
  vi.restoreAllMocks();
});

describe('DWClient receives a person @bot message and replies via sessionWebhook', () => {
  it('posts through /_emulator, receives the CALLBACK, replies, and the reply lands in the group', async () => {
    const received: SdkFrame[] = [];
    const replies: number[] = [];
    const dw = new sdk.DWClient({ clientId: app.appKey, clientSecret: app.appSecret });
    client = dw;
    dw.registerCallbackListener(sdk.TOPIC_ROBOT, (msg) => {
      received.push(msg);
      const data = JSON.parse(msg.data) as {
        sessionWebhook: string;
        senderStaffId: string;
        text: { content: string };
      };
      dw.socketCallBackResponse(msg.headers['messageId'] ?? '', { ok: true });
      void fetch(data.sessionWebhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          msgtype: 'text',
          text: { content: `收到:${data.text.content.trim()} @${data.senderStaffId}` },
          at: { atUserIds: [data.senderStaffId] },
        }),
      }).then(async (r) => replies.push(((await r.json()) as { errcode: number }).errcode));
    });
    await dw.connect();
    await waitFor(() => emu.gateway.stats().openConnections === 1);

    const res = await fetch(
      `${emu.url}/_emulator/groups/${encodeURIComponent(group.openConversationId)}/messages`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'lisi', text: '部署状态?', atBot: true }),
      },
    );
    expect(res.status).toBe(200);
    const posted = (await res.json()) as { frameMessageId: string; sessionWebhook: string };
    expect(posted.sessionWebhook.startsWith(`${emu.url}/robot/sendBySession?session=`)).toBe(true);

    await waitFor(() => replies.length === 1);
    expect(replies[0]).toBe(0);
    const frame = JSON.parse(received[0]?.data ?? '{}') as Record<string, unknown>;
    expect(frame).toMatchObject({
      conversationId: group.openConversationId,
      conversationType: '2',
      senderStaffId: 'lisi',
      robotCode: app.robotCode,
      isInAtList: true,
      text: { content: ' 部署状态?' },
    });
    const msgs = emu.messages(group.openConversationId);
    expect(msgs.map((m) => [m.source, m.from ?? m.robot, m.text])).toEqual([
      ['user', 'lisi', '部署状态?'],
      ['session_webhook', app.robotCode, '收到:部署状态? @lisi'],
    ]);
    expect(msgs[1]?.atUserIds).toEqual(['lisi']);
    await waitFor(() => emu.gateway.log().acks.some((a) => a.messageId === posted.frameMessageId));
  });

  it('a message without @bot is recorded but not pushed (only @ reaches group bots)', async () => {
    const before = emu.gateway.stats().framesPushed;
    const r = await fetch(
      `${emu.url}/_emulator/groups/${encodeURIComponent(group.openConversationId)}/messages`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'alice', text: 'just chatting' }),
      },
    );
    expect(r.status).toBe(200);
    expect(emu.gateway.stats().framesPushed).toBe(before);
    expect(emu.messages(group.openConversationId).at(-1)?.text).toBe('just chatting');
  });

  it('control API rejects non-members and unknown groups with a 4xx reason', async () => {
    const post = (ocid: string, body: unknown) =>
      fetch(`${emu.url}/_emulator/groups/${encodeURIComponent(ocid)}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const notMember = await post('cidDemoProduct000003==', { from: 'zhangsan', text: 'hi' });
    expect(notMember.status).toBe(400);
    expect(((await notMember.json()) as { error: string }).error).toMatch(/not a member/);
    expect((await post('cidNope', { from: 'lisi', text: 'x' })).status).toBe(404);
    expect((await post(group.openConversationId, { from: 'lisi' })).status).toBe(400);
  });
});

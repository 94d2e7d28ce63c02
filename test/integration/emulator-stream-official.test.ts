/**
 * Fidelity of the emulator's Stream gateway against the official Node client `dingtalk-stream` 2.1.5
 * (docs/dingtalk.md §S10, §S11): it opens, connects, receives a bot-message CALLBACK and an EVENT,
 * acks both, and after a SYSTEM disconnect reconnects with a fresh ticket.
 *
 * Redirect (§11): the SDK hard-codes https://api.dingtalk.com. One axios request interceptor on the axios
 * instance the SDK resolves rewrites it to the local server. The interceptor only fires when this test loads
 * the same module format as the SDK build it uses, so both the SDK and axios are loaded through one CommonJS
 * `require` rooted at the SDK's own entry (its package.json maps `require` to dist/*.cjs, which requires
 * 'axios' from its nested node_modules).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StreamGateway } from '../../src/emulator/stream/index.js';
import { waitFor } from '../support/wait-for.js';

interface SdkFrame {
  headers: Record<string, string>;
  data: string;
}
interface DWClientLike {
  reconnectInterval: number;
  registerAllEventListener(fn: (msg: SdkFrame) => { status: string }): DWClientLike;
  registerCallbackListener(topic: string, fn: (msg: SdkFrame) => void): DWClientLike;
  socketCallBackResponse(messageId: string, result: unknown): void;
  connect(): Promise<void>;
  disconnect(): void;
}
interface AxiosLike {
  interceptors: {
    request: {
      use(fn: (cfg: { url?: string }) => { url?: string }): number;
      eject(id: number): void;
    };
  };
}

const requireCjs = createRequire(import.meta.url);
const sdkEntry = requireCjs.resolve('dingtalk-stream');
const sdk = requireCjs(sdkEntry) as {
  DWClient: new (opts: { clientId: string; clientSecret: string }) => DWClientLike;
  TOPIC_ROBOT: string;
};
const sdkAxios = createRequire(sdkEntry)('axios') as AxiosLike;

let server: Server;
let gw: StreamGateway;
let base = '';
let interceptorId = -1;
let redirected = 0;
let client: DWClientLike | undefined;

beforeAll(async () => {
  let port = 0;
  gw = new StreamGateway({
    authenticate: (id, secret) => id === 'dingofficial' && secret === 'official-secret-canary',
    wsBase: () => `ws://127.0.0.1:${port}`,
    disconnectGraceMs: 50,
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1.0/gateway/connections/open') {
        res.writeHead(404).end();
        return;
      }
      const out = gw.handleOpen(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!gw.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  interceptorId = sdkAxios.interceptors.request.use((cfg) => {
    const url = cfg.url ?? '';
    const local = url.replace(/^https:\/\/(api|oapi)\.dingtalk\.com/, base);
    // Fail closed: nothing in this test may reach a real DingTalk host.
    if (!local.startsWith(base)) throw new Error(`refusing non-local URL ${url}`);
    redirected++;
    return { ...cfg, url: local };
  });
  vi.spyOn(console, 'info').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

afterAll(async () => {
  client?.disconnect();
  sdkAxios.interceptors.request.eject(interceptorId);
  await gw.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  vi.restoreAllMocks();
});

describe('dingtalk-stream 2.1.5 against the emulator gateway', () => {
  it('connects, receives and acks a bot CALLBACK and an EVENT, and reconnects after SYSTEM disconnect', async () => {
    const callbacks: SdkFrame[] = [];
    const events: SdkFrame[] = [];
    const dw = new sdk.DWClient({ clientId: 'dingofficial', clientSecret: 'official-secret-canary' });
    client = dw;
    dw.reconnectInterval = 50; // a public field; 2.1.5 retries after a fixed 1 s otherwise (§10)
    dw.registerCallbackListener(sdk.TOPIC_ROBOT, (msg) => {
      callbacks.push(msg);
      dw.socketCallBackResponse(msg.headers['messageId'] ?? '', { text: 'pong' });
    });
    dw.registerAllEventListener((msg) => {
      events.push(msg);
      return { status: 'SUCCESS' };
    });
    await dw.connect();
    expect(redirected).toBe(1);
    await waitFor(() => gw.stats().openConnections === 1);
    const conn = gw.log().connections[0];
    expect(conn?.subscriptions).toEqual([
      { type: 'EVENT', topic: '*' },
      { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
    ]);

    const cbId = gw.pushCallback('dingofficial', sdk.TOPIC_ROBOT, {
      msgtype: 'text',
      text: { content: ' hello' },
      msgId: 'm1',
    });
    const evId = gw.pushEvent('dingofficial', {
      eventType: 'chat_update_title',
      eventId: 'ev-official',
      data: { title: 't' },
    });
    await waitFor(() => gw.log().acks.length >= 2);
    expect(JSON.parse(callbacks[0]?.data ?? '{}')).toMatchObject({
      msgId: 'm1',
      text: { content: ' hello' },
    });
    expect(events[0]?.headers['eventId']).toBe('ev-official');
    const acks = gw.log().acks;
    const cbAck = acks.find((a) => a.messageId === cbId);
    const evAck = acks.find((a) => a.messageId === evId);
    expect(cbAck).toMatchObject({ code: 200, kind: 'callback', consumed: true });
    expect(JSON.parse(cbAck?.data ?? '')).toEqual({ response: { text: 'pong' } });
    expect(evAck).toMatchObject({ code: 200, kind: 'event', consumed: true });
    expect(gw.stats().pendingFrames).toBe(0);
    expect(gw.stats().malformed.unknown_message_id).toBe(0);

    // §1 step 7 / §10: Node never closes on `disconnect`; the gateway does, and the client opens afresh.
    expect(gw.disconnectAll('dingofficial', 'rotation')).toBe(1);
    await waitFor(() => gw.log().connections.length === 2 && gw.stats().openConnections === 1);
    const opens = gw.log().opens;
    expect(opens.length).toBe(2);
    expect(opens[1]?.ticket).not.toBe(opens[0]?.ticket);
    expect(opens.every((o) => o.ticketUsedAt !== undefined)).toBe(true);
    expect(gw.log().connections[0]?.closedAt).toBeDefined();

    gw.pushEvent('dingofficial', { eventType: 'user_add_org', eventId: 'ev-after', data: {} });
    await waitFor(() => events.length === 2);
    expect(events[1]?.headers['connectionId']).toBe(gw.log().connections[1]?.connectionId);
    await waitFor(() => gw.stats().pendingFrames === 0);

    dw.disconnect();
    client = undefined;
    await waitFor(() => gw.stats().openConnections === 0);
    await new Promise((r) => setTimeout(r, 120));
    expect(gw.log().opens.length).toBe(2); // a user disconnect does not trigger a reconnect
  });
});

import { describe, expect, it } from 'vitest';
import { FakeHub } from '../../test/support/fake-hub.js';
import { createApiServer } from './api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from './api-tokens.js';

async function setup() {
  const hub = new FakeHub();
  const store = new MemoryApiTokenStore();
  const token = (await createApiToken(store, 'sock', ['read'])).token;
  const server = await createApiServer(hub, {
    tokens: new StoreTokenVerifier(store),
    events: hub.events,
    sse: { heartbeatMs: 60_000 },
  });
  return { hub, token, server };
}

async function readIds(
  res: Response,
  want: number,
): Promise<{ ids: number[]; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  let ids: number[] = [];
  while (ids.length < want) {
    const { done, value } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
    ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  }
  return { ids, reader };
}

describe('createApiServer (real socket)', () => {
  it('listens on loopback, and an SSE client that reconnects with Last-Event-ID misses nothing', async () => {
    const { hub, token, server } = await setup();
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const headers = { authorization: `Bearer ${token}` };
      const first = await fetch(`${server.url}/v1/events`, { headers });
      hub.events.publish('task.reminded', { id: 1 });
      hub.events.publish('task.reminded', { id: 2 });
      const a = await readIds(first, 2);
      expect(a.ids).toEqual([1, 2]);
      await a.reader.cancel();
      // While disconnected, more happens.
      hub.events.publish('task.escalated', { id: 1 });
      hub.events.publish('task.escalated', { id: 2 });
      const again = await fetch(`${server.url}/v1/events`, { headers: { ...headers, 'last-event-id': '2' } });
      hub.events.publish('task.escalated', { id: 3 });
      const b = await readIds(again, 3);
      expect(b.ids).toEqual([3, 4, 5]);
      await b.reader.cancel();
    } finally {
      await server.close();
    }
  });

  it('close() ends open event streams instead of hanging on them', async () => {
    const { token, server } = await setup();
    const res = await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    const reader = res.body!.getReader();
    await reader.read();
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    const end = await reader.read().catch(() => ({ done: true }));
    expect(end.done).toBe(true);
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
  });

  it('close() lets a request in flight finish, then refuses new connections', async () => {
    const hub = new FakeHub();
    const store = new MemoryApiTokenStore();
    const token = (await createApiToken(store, 'w', ['send'])).token;
    const server = await createApiServer(hub, { tokens: new StoreTokenVerifier(store), events: hub.events });
    const send = hub.sendMessage.bind(hub);
    hub.sendMessage = async (input, actor) => {
      await new Promise((r) => setTimeout(r, 300));
      return send(input, actor);
    };
    const pending = fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"group":"ops","text":"slow"}',
    });
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close();
    const res = await pending;
    expect(res.status).toBe(202);
    expect(((await res.json()) as { messageId: string }).messageId).toMatch(/^msg_/);
    await closed;
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
  });
});

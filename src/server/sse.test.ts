import { describe, expect, it } from 'vitest';
import { apiHarness } from '../../test/support/api-harness.js';
import { EventBus } from '../observe/events.js';
import { SseStreams } from './sse.js';

/** Reads the SSE body until `until` matches the text so far (or the stream ends). */
async function readUntil(res: Response, until: (text: string) => boolean) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { text, reader };
}

const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

describe('GET /v1/events', () => {
  it('replays what came after Last-Event-ID, then streams live events, and unsubscribes on cancel', async () => {
    const h = await apiHarness();
    for (let i = 1; i <= 4; i++) h.hub.events.publish('task.reminded', { id: i });
    const res = await h.app.request('/v1/events', {
      headers: h.auth(h.tokens.read, { 'last-event-id': '2' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const first = await readUntil(res, (t) => ids(t).includes(4));
    expect(ids(first.text)).toEqual([3, 4]);
    expect(first.text).toContain('event: task.reminded\ndata: {"at":');
    expect(h.streams.size).toBe(1);

    h.hub.events.publish('task.escalated', { id: 3 });
    let more = '';
    const decoder = new TextDecoder();
    while (!more.includes('id: 5')) {
      const { value, done } = await first.reader.read();
      if (done) break;
      more += decoder.decode(value);
    }
    expect(more).toContain('event: task.escalated');
    await first.reader.cancel();
    expect(h.hub.events.subscribers).toBe(0);
    expect(h.streams.size).toBe(0);
  });

  it('replays the whole buffer with ?lastEventId=0 and sends nothing old without it', async () => {
    const h = await apiHarness();
    h.hub.events.publish('task.reminded', { id: 1 });
    h.hub.events.publish('task.reminded', { id: 2 });
    const all = await h.app.request('/v1/events?lastEventId=0', { headers: h.auth(h.tokens.read) });
    const got = await readUntil(all, (t) => ids(t).includes(2));
    expect(ids(got.text)).toEqual([1, 2]);
    await got.reader.cancel();

    const live = await h.app.request('/v1/events', { headers: h.auth(h.tokens.read) });
    const hello = await readUntil(live, (t) => t.includes(': connected'));
    expect(ids(hello.text)).toEqual([]);
    h.hub.events.publish('task.reminded', { id: 3 });
    const next = await hello.reader.read();
    expect(ids(new TextDecoder().decode(next.value))).toEqual([3]);
    await hello.reader.cancel();
  });

  it('the header wins over the query, and a malformed Last-Event-ID is a 400', async () => {
    const h = await apiHarness();
    for (let i = 0; i < 3; i++) h.hub.events.publish('task.reminded', { id: i });
    const res = await h.app.request('/v1/events?lastEventId=0', {
      headers: h.auth(h.tokens.read, { 'last-event-id': '2' }),
    });
    const got = await readUntil(res, (t) => ids(t).includes(3));
    expect(ids(got.text)).toEqual([3]);
    await got.reader.cancel();
    for (const bad of ['abc', '-1', '1e999']) {
      const r = await h.app.request('/v1/events', {
        headers: h.auth(h.tokens.read, { 'last-event-id': bad }),
      });
      expect(r.status, bad).toBe(400);
    }
    expect((await h.app.request('/v1/events?lastEventId=x', { headers: h.auth(h.tokens.read) })).status).toBe(
      400,
    );
  });

  it('a Last-Event-ID from before a hub restart (beyond the newest id) replays the whole buffer', async () => {
    const h = await apiHarness();
    for (let i = 0; i < 3; i++) h.hub.events.publish('task.reminded', { id: i });
    const res = await h.app.request('/v1/events', {
      headers: h.auth(h.tokens.read, { 'last-event-id': '500' }),
    });
    const got = await readUntil(res, (t) => ids(t).includes(3));
    expect(ids(got.text)).toEqual([1, 2, 3]);
    await got.reader.cancel();
  });

  it('sends heartbeat comments on an idle stream', async () => {
    const h = await apiHarness();
    const res = await h.app.request('/v1/events', { headers: h.auth(h.tokens.read) });
    const got = await readUntil(res, (t) => t.includes(': ping'));
    expect(got.text).toContain(': ping\n\n');
    await got.reader.cancel();
  });

  it('serves the recent events as JSON', async () => {
    const h = await apiHarness();
    for (let i = 0; i < 5; i++) h.hub.events.publish('task.reminded', { id: i });
    const res = await h.app.request('/v1/events/recent?limit=2', { headers: h.auth(h.tokens.read) });
    const body = (await res.json()) as { events: Array<{ id: number }> };
    expect(body.events.map((e) => e.id)).toEqual([4, 5]);
  });
});

describe('SseStreams', () => {
  it('cuts off a client that stops reading once its backlog passes the bound', () => {
    const bus = new EventBus();
    const streams = new SseStreams();
    streams.open(bus, undefined, { maxBacklog: 5, heartbeatMs: 60_000 });
    for (let i = 0; i < 50; i++) bus.publish('task.reminded', { id: i });
    expect(bus.subscribers).toBe(0);
    expect(streams.size).toBe(0);
  });

  it('twin: without the bound, the same unread client stays subscribed and its backlog grows', () => {
    const bus = new EventBus();
    const streams = new SseStreams();
    streams.open(bus, undefined, { maxBacklog: Number.POSITIVE_INFINITY, heartbeatMs: 60_000 });
    for (let i = 0; i < 50; i++) bus.publish('task.reminded', { id: i });
    expect(bus.subscribers).toBe(1);
    streams.closeAll();
    expect(bus.subscribers).toBe(0);
  });

  it('closeAll ends open streams so a server can stop', async () => {
    const bus = new EventBus();
    const streams = new SseStreams();
    const res = streams.open(bus, undefined, { heartbeatMs: 60_000 });
    const reader = res.body!.getReader();
    await reader.read();
    streams.closeAll();
    expect((await reader.read()).done).toBe(true);
    expect(bus.subscribers).toBe(0);
  });
});

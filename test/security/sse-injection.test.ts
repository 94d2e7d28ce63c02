/**
 * SSE injection: a task title or a chat nick carrying `\n\nevent: ...\ndata: {...}` (or lone `\r`, which
 * the SSE grammar also takes as a line end) must not forge an event on `GET /v1/events`, which the dashboard and
 * `dingkit events` trust. The stream of a real hub is read raw and parsed by the rules of the HTML standard's
 * event-stream format: exactly the events the hub published arrive, each `data` is one JSON line carrying the
 * hostile text intact, and no forged event or field appears.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubEvents } from '../../src/observe/event-map.js';
import { formatSse } from '../../src/observe/events.js';
import { chatFromStranger, type HostileHub, startHostileHub } from './hostile-hub.js';

const FORGE = (sep: string) =>
  `Rotate keys${sep}${sep}id: 999999${sep}event: delivery.redriven${sep}data: {"forged":true,"by":"admin"}${sep}${sep}`;

let h: HostileHub;
beforeAll(async () => {
  h = await startHostileHub();
}, 60_000);
afterAll(async () => h?.close());

interface Parsed {
  id: string;
  event: string;
  data: string;
}

/** The event-stream grammar: lines end at CRLF, LF or CR; a blank line dispatches; `field: value`. */
function parse(stream: string): { events: Parsed[]; fields: string[] } {
  const events: Parsed[] = [];
  const fields: string[] = [];
  let cur: Parsed = { id: '', event: '', data: '' };
  let dataLines: string[] = [];
  for (const line of stream.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (dataLines.length) events.push({ ...cur, data: dataLines.join('\n') });
      cur = { id: '', event: '', data: '' };
      dataLines = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    fields.push(field);
    if (field === 'data') dataLines.push(value);
    else if (field === 'id') cur.id = value;
    else if (field === 'event') cur.event = value;
  }
  return { events, fields };
}

async function readFor(ms: number, until: (text: string) => boolean): Promise<string> {
  const ctl = new AbortController();
  const res = await fetch(`${h.server.url}/v1/events?lastEventId=0`, {
    headers: { authorization: `Bearer ${h.token}` },
    signal: ctl.signal,
  });
  expect(res.status).toBe(200);
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  const reader = res.body!.getReader();
  try {
    while (Date.now() < deadline && !until(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    ctl.abort();
  }
  return text;
}

describe('the SSE feed cannot be forged by text', () => {
  it('attack: titles and a nick with \\n\\n, \\r\\r and \\r\\n\\r\\n followed by forged fields', async () => {
    const titles = [FORGE('\n'), FORGE('\r'), FORGE('\r\n')];
    for (const title of titles) {
      const res = await fetch(`${h.server.url}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, assignees: ['Alice Chen'] }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    await chatFromStranger(h, FORGE('\n'), 'help', 'sse-chat-1');
    const before = h.f.hub.events.recent(1000).length;
    const raw = await readFor(10_000, (t) => parse(t).events.length >= before);
    const { events, fields } = parse(raw);
    // Exactly what the hub published, in order (more may have been published while reading: deliveries).
    const published = h.f.hub.events.recent(1000).slice(0, events.length);
    expect(events.length).toBeGreaterThanOrEqual(before);
    expect(events.map((e) => [e.id, e.event])).toEqual(published.map((e) => [String(e.id), e.type]));
    expect(new Set(fields)).toEqual(new Set(['retry', 'id', 'event', 'data']));
    expect(events.some((e) => e.event === 'delivery.redriven' || e.id === '999999')).toBe(false);
    for (const e of events) expect(e.data).not.toContain('\n');
    const created = events.filter((e) => e.event === 'task.created').map((e) => JSON.parse(e.data).title);
    // The hub stores titles trimmed, with \r dropped; what it published is what arrives, forged fields and all.
    expect(created).toEqual(published.filter((e) => e.type === 'task.created').map((e) => e.data['title']));
    expect(created).toHaveLength(titles.length);
    for (const t of created) expect(t).toContain('data: {"forged":true,"by":"admin"}');
    const cmd = events.find((e) => e.event === 'inbound.command');
    expect(JSON.parse(cmd!.data).by).toBe(FORGE('\n'));
  }, 30_000);

  it('formatSse keeps every event on its three lines whatever the data holds (U+2028, NUL-free, nested)', () => {
    const text = formatSse({
      id: 7,
      type: 'task.created',
      at: 1,
      // Fields no event carries, to show the framing does not depend on which fields there are.
      data: {
        title: 'a\u2028b\u2029c\r\nd',
        nested: { k: 'x\n\ndata: y' },
        ['k\nevent: x']: 1,
      } as unknown as HubEvents['task.created'],
    });
    const { events, fields } = parse(text);
    expect(events).toHaveLength(1);
    expect(fields).toEqual(['id', 'event', 'data']);
    expect(JSON.parse(events[0]!.data)).toEqual({
      at: 1,
      title: 'a\u2028b\u2029c\r\nd',
      nested: { k: 'x\n\ndata: y' },
      'k\nevent: x': 1,
    });
  });
});

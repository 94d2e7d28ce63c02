/**
 * Tiny JSON-over-HTTP helpers for the emulator integration tests (real sockets, loopback only).
 */
import { request } from 'undici';

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

export async function call<T = Record<string, unknown>>(
  url: string,
  opts: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string | Buffer } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | Buffer | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(url, {
    method: (opts.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed as T, text };
}

/** A fake clock tests move by hand (the emulator's `now` option). */
export function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface StreamFrame {
  type: string;
  headers: Record<string, string>;
  data: string;
}

/**
 * A minimal Stream app over `ws` (docs/dingtalk.md §S1–§S5): opens, connects, records frames, echoes pings and,
 * when `autoAck`, acks EVENT/CALLBACK frames with code 200.
 */
export async function connectStream(
  origin: string,
  clientId: string,
  clientSecret: string,
  opts: { autoAck?: boolean; topics?: string[] } = {},
): Promise<{ frames: StreamFrame[]; close: () => Promise<void>; ws: import('ws').WebSocket }> {
  const { WebSocket } = await import('ws');
  const subs = [
    { type: 'EVENT', topic: '*' },
    ...(opts.topics ?? ['/v1.0/im/bot/messages/get', '/v1.0/card/instances/callback']).map((topic) => ({
      type: 'CALLBACK',
      topic,
    })),
  ];
  const open = await call<{ endpoint: string; ticket: string }>(`${origin}/v1.0/gateway/connections/open`, {
    body: { clientId, clientSecret, subscriptions: subs, ua: 'emulator-test' },
  });
  if (open.status !== 200) throw new Error(`open failed: ${open.text}`);
  const ws = new WebSocket(`${open.body.endpoint}?ticket=${encodeURIComponent(open.body.ticket)}`);
  const frames: StreamFrame[] = [];
  ws.on('message', (raw) => {
    const f = JSON.parse(String(raw)) as StreamFrame;
    const messageId = f.headers['messageId'] ?? '';
    if (f.type === 'SYSTEM' && f.headers['topic'] === 'ping') {
      ws.send(JSON.stringify({ code: 200, headers: f.headers, message: 'OK', data: f.data }));
      return;
    }
    frames.push(f);
    if (opts.autoAck !== false && f.type !== 'SYSTEM') {
      ws.send(
        JSON.stringify({
          code: 200,
          headers: { messageId, contentType: 'application/json' },
          message: 'OK',
          data: '{"response":{}}',
        }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    frames,
    ws,
    close: async () => {
      if (ws.readyState === ws.CLOSED) return;
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      ws.close();
      await closed;
    },
  };
}

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

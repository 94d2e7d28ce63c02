/**
 * A scripted transport for unit tests of the domain APIs: records every raw request (origin, path, headers and
 * the body bytes, streamed bodies included) and answers from a script. Token requests are answered
 * automatically unless the script handles them.
 */

import { isStreamBody, type RawRequest, type RawResponse, type Transport } from '../../src/core/transport.js';

export type Reply = { status?: number; body: unknown; headers?: Record<string, string> } | Error;

export interface RecordedRequest extends RawRequest {
  /** The body bytes as sent (streamed bodies are drained). */
  bytes: Buffer;
  /** `bytes` parsed as JSON when it is JSON. */
  json: unknown;
  url: URL;
}

export function fakeTransport(script: (req: RecordedRequest, n: number) => Reply | Promise<Reply>) {
  const calls: RecordedRequest[] = [];
  const send: Transport = async (req) => {
    let bytes: Buffer;
    if (req.body === undefined) bytes = Buffer.alloc(0);
    else if (typeof req.body === 'string') bytes = Buffer.from(req.body);
    else if (isStreamBody(req.body)) {
      const parts: Buffer[] = [];
      for await (const c of req.body.open()) parts.push(Buffer.from(c));
      bytes = Buffer.concat(parts);
    } else bytes = req.body;
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    const rec: RecordedRequest = { ...req, bytes, json, url: new URL(req.origin + req.path) };
    const isToken = req.path.startsWith('/v1.0/oauth2/accessToken') || req.path.startsWith('/gettoken');
    if (!isToken) calls.push(rec);
    const r = isToken
      ? { body: { accessToken: 'app-token-canary-777', expireIn: 7200 } }
      : await script(rec, calls.length);
    if (r instanceof Error) throw r;
    const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    return {
      status: r.status ?? 200,
      headers: r.headers ?? {},
      body: Buffer.from(body),
    } satisfies RawResponse;
  };
  return { send, calls };
}

/** Common client options for unit tests: no env, no real sleeps. */
export const testOptions = {
  appKey: 'dingtestappkey',
  appSecret: 'app-secret-canary-123456',
  agentId: 123456,
  env: {},
  retry: { sleep: async () => {}, retries: 2 },
} as const;

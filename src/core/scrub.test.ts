import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HttpError, NetworkError } from './errors.js';
import { Redactor } from './redact.js';
import { scrubError, scrubMiddleware } from './scrub.js';

const SECRET = 'robot-secret-canary-42';

describe('scrubMiddleware', () => {
  it('redacts registered secrets from message, stack, body and cause', async () => {
    const r = new Redactor([SECRET]);
    const cause = new Error(`reset while sending ${SECRET}`);
    const mw = scrubMiddleware(r);
    const err = await mw({} as never, async () => {
      throw new HttpError(502, `<html>${SECRET}</html>`, { cause });
    }).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    const all = [err.message, err.stack, err.body, JSON.stringify(err), inspect(err, { depth: 4 })].join(
      '\n',
    );
    expect(all).not.toContain(SECRET);
    expect(all).toContain('[REDACTED]');
  });

  it('twin: without the middleware the secret is in the error', async () => {
    const err = new NetworkError(`connect failed ${SECRET}`);
    expect(err.message).toContain(SECRET);
    scrubError(err, new Redactor([SECRET]));
    expect(err.message).not.toContain(SECRET);
  });

  it("redacts the request's own one-time values (`redact`) without keeping them in the client's redactor", async () => {
    const code = 'one-time-code-canary-77';
    const client = new Redactor([SECRET]);
    const mw = scrubMiddleware(client);
    const fail = async () => {
      throw new HttpError(400, `bad code ${code} ${SECRET}`);
    };
    const err = await mw({ redact: [code] } as never, fail).catch((e) => e);
    expect(err.message).not.toContain(code);
    expect(err.message).not.toContain(SECRET);
    expect(client.redact(code)).toBe(code);
    // Twin: a request that does not name it leaves it in the error.
    const plain = await mw({} as never, fail).catch((e) => e);
    expect(plain.message).toContain(code);
  });

  it('turns a thrown non-error into a DingTalkError with redacted text', () => {
    const e = scrubError(`raw ${SECRET}`, new Redactor([SECRET])) as Error;
    expect(e.message).toBe('raw [REDACTED]');
  });
});

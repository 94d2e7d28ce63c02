import { describe, expect, it } from 'vitest';
import { OpenCallError, parseOpenBody, v1Error } from './open-call.js';

const auth = (id: string, secret: string): boolean => id === 'k' && secret === 's3cret-canary';

function failure(body: unknown): OpenCallError {
  try {
    parseOpenBody(body, auth);
  } catch (err) {
    if (err instanceof OpenCallError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('parseOpenBody (docs/dingtalk.md §S2, §S13)', () => {
  it('accepts every client’s field set, SYSTEM entries included, and ignores unknown fields', () => {
    const req = parseOpenBody(
      {
        clientId: 'k',
        clientSecret: 's3cret-canary',
        subscriptions: [
          { type: 'EVENT', topic: '*' },
          { type: 'SYSTEM', topic: 'disconnect' },
          { type: 'CALLBACK', topic: '/v1.0/card/instances/callback', extra: 1 },
        ],
        ua: 'dingtalk-sdk-go/v0.9.2',
        localIp: '10.0.0.2',
        extras: { k: 'v' },
      },
      auth,
    );
    expect(req).toEqual({
      clientId: 'k',
      ua: 'dingtalk-sdk-go/v0.9.2',
      subscriptions: [
        { type: 'EVENT', topic: '*' },
        { type: 'SYSTEM', topic: 'disconnect' },
        { type: 'CALLBACK', topic: '/v1.0/card/instances/callback' },
      ],
    });
  });

  it('rejects each bad input with 400 and a code, never naming the secret', () => {
    const cases: unknown[] = [
      undefined,
      [],
      { clientSecret: 's3cret-canary', subscriptions: [] },
      { clientId: 'k', subscriptions: [{ type: 'EVENT', topic: '*' }] },
      { clientId: 'k', clientSecret: 'wrong-canary', subscriptions: [{ type: 'EVENT', topic: '*' }] },
      { clientId: 'k', clientSecret: 's3cret-canary' },
      { clientId: 'k', clientSecret: 's3cret-canary', subscriptions: [] },
      { clientId: 'k', clientSecret: 's3cret-canary', subscriptions: [{ type: 'EVENT' }] },
      { clientId: 'k', clientSecret: 's3cret-canary', subscriptions: [{ type: 'PUSH', topic: '*' }] },
      { clientId: 'k', clientSecret: 's3cret-canary', subscriptions: [null] },
    ];
    const codes = cases.map((c) => {
      const err = failure(c);
      expect(err.status).toBe(400);
      expect(err.message).not.toMatch(/canary/);
      return err.code;
    });
    expect(codes).toEqual([
      'InvalidParameter.Body',
      'InvalidParameter.Body',
      'MissingParameter.clientId',
      'MissingParameter.clientSecret',
      'InvalidAuthentication',
      'MissingParameter.subscriptions',
      'MissingParameter.subscriptions',
      'InvalidParameter.subscriptions',
      'InvalidParameter.subscriptions',
      'InvalidParameter.subscriptions',
    ]);
  });

  it('v1Error has the {code, message, requestid} shape @alicloud clients read (§S12)', () => {
    const body = v1Error('X', 'y');
    expect(Object.keys(body)).toEqual(['code', 'message', 'requestid']);
    expect(body.requestid).toMatch(/^[0-9A-F]{32}$/);
  });
});

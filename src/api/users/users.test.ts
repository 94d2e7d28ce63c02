import { describe, expect, it } from 'vitest';
import { fakeTransport, type RecordedRequest, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { PlatformError, ValidationError } from '../../core/errors.js';
import { TtlCache } from '../shared/ttl-cache.js';

function answer(req: RecordedRequest) {
  const p = req.url.pathname;
  const b = req.json as Record<string, string>;
  if (p === '/topapi/v2/user/getbymobile') {
    return b['mobile'] === '13800000000'
      ? { body: { errcode: 0, result: { userid: 'zhangsan' } } }
      : { body: { errcode: 40104, errmsg: 'mobile not in org' } };
  }
  if (p === '/topapi/v2/user/get') {
    return {
      body: {
        errcode: 0,
        result: {
          userid: b['userid'],
          unionid: `union-${b['userid']}`,
          name: 'Zhang San',
          dept_id_list: [1, 2],
          active: true,
        },
      },
    };
  }
  if (p === '/topapi/user/getbyunionid')
    return { body: { errcode: 0, result: { userid: 'zhangsan', contact_type: 0 } } };
  return { body: { errcode: 404 } };
}

function client(extra = {}) {
  let now = 0;
  const t = fakeTransport(answer);
  const dt = new DingTalk({ ...testOptions, transport: t.send, now: () => now, ...extra });
  return { dt, t, advance: (ms: number) => (now += ms) };
}

describe('users (docs/dingtalk.md §7)', () => {
  it('maps mobile → userId → unionId → userId on the documented paths and bodies', async () => {
    const { dt, t } = client();
    expect(await dt.users.userIdByMobile('13800000000')).toBe('zhangsan');
    expect(await dt.users.unionIdOf('zhangsan')).toBe('union-zhangsan');
    expect(await dt.users.byUnionId('union-zhangsan')).toEqual({ userId: 'zhangsan', contactType: 0 });
    expect(t.calls.map((c) => [c.url.pathname, c.json])).toEqual([
      ['/topapi/v2/user/getbymobile', { mobile: '13800000000' }],
      ['/topapi/v2/user/get', { userid: 'zhangsan' }],
      ['/topapi/user/getbyunionid', { unionid: 'union-zhangsan' }],
    ]);
    expect(t.calls.every((c) => c.url.searchParams.get('access_token') === 'app-token-canary-777')).toBe(
      true,
    );
    const d = await dt.users.get('zhangsan');
    expect(d).toMatchObject({
      userId: 'zhangsan',
      unionId: 'union-zhangsan',
      name: 'Zhang San',
      deptIds: [1, 2],
      active: true,
    });
  });

  it('caches lookups for the TTL, then asks again', async () => {
    const { dt, t, advance } = client({ users: { cacheTtlMs: 1_000 } });
    await dt.users.userIdByMobile('13800000000');
    await dt.users.userIdByMobile('13800000000');
    expect(t.calls).toHaveLength(1);
    advance(1_000);
    await dt.users.userIdByMobile('13800000000');
    expect(t.calls).toHaveLength(2);
  });

  it('twin: with the cache disabled every lookup goes out', async () => {
    const { dt, t } = client({ users: { cacheSize: 0 } });
    await dt.users.userIdByMobile('13800000000');
    await dt.users.userIdByMobile('13800000000');
    expect(t.calls).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    const { dt, t } = client();
    await expect(dt.users.userIdByMobile('13900000000')).rejects.toBeInstanceOf(PlatformError);
    await expect(dt.users.userIdByMobile('13900000000')).rejects.toBeInstanceOf(PlatformError);
    expect(t.calls).toHaveLength(2);
    const err = await dt.users.userIdByMobile('13900000000').catch((e) => e);
    expect(err.code).toBe('USER_NOT_FOUND');
  });

  it('validates before I/O', async () => {
    const { dt, t } = client();
    await expect(dt.users.userIdByMobile('')).rejects.toBeInstanceOf(ValidationError);
    await expect(dt.users.userIdByMobile('1'.repeat(16))).rejects.toBeInstanceOf(ValidationError);
    await expect(dt.users.get('x'.repeat(65))).rejects.toBeInstanceOf(ValidationError);
    expect(t.calls).toHaveLength(0);
  });

  it('a topapi answer without result is an error, not an empty user', async () => {
    const t = fakeTransport(() => ({ body: { errcode: 0 } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    const err = await dt.users.get('u').catch((e) => e);
    expect(err.code).toBe('BAD_RESPONSE');
  });
});

describe('TtlCache', () => {
  it('is bounded and evicts the least recently used entry', () => {
    const c = new TtlCache<number>({ maxEntries: 2, ttlMs: 10, now: () => 0 });
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
  });
});

describe('users single-flight', () => {
  it('concurrent lookups of one key share one request', async () => {
    const { dt, t } = client();
    const all = await Promise.all(Array.from({ length: 50 }, () => dt.users.userIdByMobile('13800000000')));
    expect(new Set(all)).toEqual(new Set(['zhangsan']));
    expect(t.calls).toHaveLength(1);
  });

  it('joins concurrent unionId and details lookups too', async () => {
    const { dt, t } = client();
    await Promise.all([
      dt.users.byUnionId('union-x'),
      dt.users.byUnionId('union-x'),
      dt.users.get('u'),
      dt.users.get('u'),
    ]);
    expect(t.calls).toHaveLength(2);
  });

  it("a caller with its own abort signal runs alone: its abort does not fail the others' lookup", async () => {
    const { dt, t } = client();
    const ac = new AbortController();
    const mine = dt.users.userIdByMobile('13800000000', { signal: ac.signal });
    const theirs = dt.users.userIdByMobile('13800000000');
    expect(await theirs).toBe('zhangsan');
    await mine.catch(() => {});
    expect(t.calls).toHaveLength(2);
  });

  it('twin: with the cache off, sequential lookups each go out (single-flight only joins concurrent ones)', async () => {
    const { dt, t } = client({ users: { cacheSize: 0 } });
    await dt.users.get('a');
    await dt.users.get('a');
    expect(t.calls).toHaveLength(2);
  });
});

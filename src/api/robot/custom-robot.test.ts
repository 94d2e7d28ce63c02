import { describe, expect, it } from 'vitest';
import { fakeTransport, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { RateLimitedError, RobotSecurityError, ValidationError } from '../../core/errors.js';
import { CustomRobot } from './custom-robot.js';
import { mention, webhookMessage } from './webhook-messages.js';
import { signWebhook } from './webhook-sign.js';

const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const TOKEN = 'a'.repeat(64);
const ok = () => ({ body: { errcode: 0, errmsg: 'ok' } });

function robot(extra: Partial<ConstructorParameters<typeof CustomRobot>[0]> = {}, script = ok) {
  const t = fakeTransport(script);
  const r = new CustomRobot({
    webhook: `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`,
    secret: SECRET,
    transport: t.send,
    now: () => 1700000000000,
    env: {},
    retry: { sleep: async () => {} },
    ...extra,
  });
  return { r, t };
}

describe('webhook signing (docs/dingtalk.md §2.3)', () => {
  it('matches the reference vector', () => {
    expect(signWebhook(SECRET, 1700000000000)).toEqual({
      timestamp: '1700000000000',
      sign: '8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw=',
    });
  });

  it('puts the URL-encoded signature on the wire exactly as the reference URL', async () => {
    const { r, t } = robot();
    await r.text('hello');
    expect(t.calls[0]!.origin + t.calls[0]!.path).toBe(
      `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}&timestamp=1700000000000&sign=8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw%3D`,
    );
    expect(t.calls[0]!.method).toBe('POST');
    expect(t.calls[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(t.calls[0]!.json).toEqual({ msgtype: 'text', text: { content: 'hello' } });
  });

  it('signs with a different key when the secret differs (the vector is not hard-coded)', () => {
    expect(signWebhook(`${SECRET}x`, 1700000000000).sign).not.toBe(
      '8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw=',
    );
    expect(signWebhook(SECRET, 1700000000001).sign).not.toBe('8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw=');
  });

  it('sends no timestamp/sign without a secret, and drops stale ones from the given URL', async () => {
    const { r, t } = robot({
      webhook: `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}&timestamp=1&sign=old`,
      secret: undefined,
    });
    await r.text('hi');
    expect(t.calls[0]!.path).toBe(`/robot/send?access_token=${TOKEN}`);
  });

  it("DingTalk's own webhook URL follows oapiBase (env or option); any other URL is used as given", async () => {
    const a = robot({ oapiBase: 'http://127.0.0.1:9', secret: undefined });
    await a.r.text('hi');
    expect(a.t.calls[0]!.origin + a.t.calls[0]!.path).toBe(
      `http://127.0.0.1:9/robot/send?access_token=${TOKEN}`,
    );
    const b = robot({ env: { DINGTALK_OAPI_BASE: 'http://127.0.0.1:8' }, secret: undefined });
    await b.r.text('hi');
    expect(b.t.calls[0]!.origin).toBe('http://127.0.0.1:8');
    const c = robot({
      webhook: `https://proxy.example/robot/send?access_token=${TOKEN}`,
      oapiBase: 'http://127.0.0.1:9',
    });
    await c.r.text('hi');
    expect(c.t.calls[0]!.origin).toBe('https://proxy.example');
  });

  it('builds the URL on oapiBase from a bare accessToken', async () => {
    const { r, t } = robot({ webhook: undefined, accessToken: TOKEN, oapiBase: 'http://127.0.0.1:9/prefix' });
    await r.text('hi');
    expect(t.calls[0]!.origin).toBe('http://127.0.0.1:9');
    expect(t.calls[0]!.url.pathname).toBe('/prefix/robot/send');
  });
});

describe('webhook message types (docs/dingtalk.md §2.4)', () => {
  it.each([
    ['text', webhookMessage.text('a'), { msgtype: 'text', text: { content: 'a' } }],
    [
      'link',
      webhookMessage.link({ title: 't', text: 'x', messageUrl: 'https://m', picUrl: 'https://p' }),
      { msgtype: 'link', link: { title: 't', text: 'x', messageUrl: 'https://m', picUrl: 'https://p' } },
    ],
    [
      'markdown',
      webhookMessage.markdown('T', '# h'),
      { msgtype: 'markdown', markdown: { title: 'T', text: '# h' } },
    ],
    [
      'actionCard single',
      webhookMessage.actionCard({ title: 'T', text: 'x', singleTitle: 'Go', singleURL: 'https://g' }),
      {
        msgtype: 'actionCard',
        actionCard: { title: 'T', text: 'x', singleTitle: 'Go', singleURL: 'https://g' },
      },
    ],
    [
      'actionCard multi',
      webhookMessage.actionCard({
        title: 'T',
        text: 'x',
        btnOrientation: '1',
        btns: [
          { title: 'A', actionURL: 'https://a' },
          { title: 'B', actionURL: 'https://b' },
        ],
      }),
      {
        msgtype: 'actionCard',
        actionCard: {
          title: 'T',
          text: 'x',
          btnOrientation: '1',
          btns: [
            { title: 'A', actionURL: 'https://a' },
            { title: 'B', actionURL: 'https://b' },
          ],
        },
      },
    ],
    [
      'feedCard',
      webhookMessage.feedCard([{ title: 'n', messageURL: 'https://m', picURL: 'https://p' }]),
      {
        msgtype: 'feedCard',
        feedCard: { links: [{ title: 'n', messageURL: 'https://m', picURL: 'https://p' }] },
      },
    ],
  ])('%s goes on the wire with DingTalk casing', async (_name, message, wire) => {
    const { r, t } = robot();
    await r.send(message);
    expect(t.calls[0]!.json).toEqual(wire);
  });

  it.each([
    [{ msgtype: 'image', image: { picURL: 'https://x' } }, 'msgtype'],
    [{ msgtype: 'text', text: { content: '' } }, 'text.content'],
    [
      { msgtype: 'link', link: { title: 't', text: 'x', messageUrl: 'javascript:alert(1)' } },
      'link.messageUrl',
    ],
    [{ msgtype: 'actionCard', actionCard: { title: 't', text: 'x' } }, 'actionCard.btns'],
    [{ msgtype: 'feedCard', feedCard: { links: [] } }, 'feedCard.links'],
    [
      { msgtype: 'feedCard', feedCard: { links: [{ title: 'a', messageURL: 'https://a', picUrl: 'x' }] } },
      'feedCard.links[0].picURL',
    ],
  ])('refuses %j locally (field %s) before any I/O', async (message, field) => {
    const { r, t } = robot();
    const err = await r.send(message as never).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe(field);
    expect(err.outcome).toBe('not_sent');
    expect(t.calls).toHaveLength(0);
  });
});

describe('@mentions (docs/dingtalk.md §2.5)', () => {
  it('fills at and writes @mobile/@userId into the text so the mention renders', async () => {
    const { r, t } = robot();
    await r.text('deploy done', { mobiles: ['13800000000'], userIds: ['manager4220'] });
    expect(t.calls[0]!.json).toEqual({
      msgtype: 'text',
      text: { content: 'deploy done\n@13800000000 @manager4220' },
      at: { atMobiles: ['13800000000'], atUserIds: ['manager4220'] },
    });
  });

  it('does not repeat a mention already written, but does not mistake a prefix for one', () => {
    const m = mention(webhookMessage.markdown('T', 'ping @13800000000 and @1380'), {
      mobiles: ['13800000000', '138'],
    });
    expect(m.markdown.text).toBe('ping @13800000000 and @1380\n@138');
    expect(m.at).toEqual({ atMobiles: ['13800000000', '138'] });
  });

  it('writes into actionCard.text and sets isAtAll', () => {
    const m = mention(
      webhookMessage.actionCard({ title: 'T', text: 'x', singleTitle: 'a', singleURL: 'https://a' }),
      {
        userIds: ['u1'],
        all: true,
      },
    );
    expect(m.actionCard.text).toBe('x\n@u1');
    expect(m.at).toEqual({ atUserIds: ['u1'], isAtAll: true });
  });

  it('refuses mentions on link and feedCard, and more than 50 people', () => {
    expect(() =>
      mention(webhookMessage.link({ title: 't', text: 'x', messageUrl: 'https://a' }), { userIds: ['u'] }),
    ).toThrow(ValidationError);
    const many = Array.from({ length: 51 }, (_, i) => `u${i}`);
    expect(() => mention(webhookMessage.text('x'), { userIds: many })).toThrow(/at most 50/);
    expect(() => mention(webhookMessage.text('x'), { userIds: many.slice(0, 50) })).not.toThrow();
  });
});

describe('local checks', () => {
  it('fails with a ValidationError when no configured keyword appears', async () => {
    const { r, t } = robot({ keywords: ['[alert]', '[deploy]'] });
    const err = await r.text('plain text').catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe('keywords');
    expect(t.calls).toHaveLength(0);
    await r.markdown('[deploy] v2', 'done');
    expect(t.calls).toHaveLength(1);
  });

  it('keywords in the at object do not count', async () => {
    const { r } = robot({ keywords: ['oncall'] });
    const msg = { msgtype: 'text', text: { content: 'x' }, at: { atUserIds: ['oncall'] } } as const;
    await expect(r.send(msg as never)).rejects.toBeInstanceOf(ValidationError);
  });

  it('enforces 20,000 bytes on the JSON body, counting UTF-8 bytes', async () => {
    const { r, t } = robot();
    const overhead = JSON.stringify({ msgtype: 'text', text: { content: '' } }).length;
    await r.text('x'.repeat(20_000 - overhead));
    expect(t.calls[0]!.bytes.length).toBe(20_000);
    const err = await r.text('x'.repeat(20_001 - overhead)).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    // 3 bytes per CJK character: 6,700 characters are 20,100 bytes.
    await expect(r.text('钉'.repeat(6_700))).rejects.toThrow(/bytes/);
    expect(t.calls).toHaveLength(1);
  });

  it('marks a send with msgUuid idempotent, so an unknown outcome is retried', async () => {
    const { TimeoutError } = await import('../../core/errors.js');
    let n = 0;
    const { r, t } = robot(
      {},
      () => (++n === 1 ? new TimeoutError('x', 1, { outcome: 'unknown' }) : ok()) as never,
    );
    await r.text('hi', undefined, { msgUuid: 'u-1' });
    expect(t.calls).toHaveLength(2);
    expect((t.calls[1]!.json as { msgUuid: string }).msgUuid).toBe('u-1');
    n = 0;
    const other = robot(
      {},
      () => (++n === 1 ? new TimeoutError('x', 1, { outcome: 'unknown' }) : ok()) as never,
    );
    await expect(other.r.text('hi')).rejects.toBeInstanceOf(TimeoutError);
    expect(other.t.calls).toHaveLength(1);
  });
});

describe('errors', () => {
  it.each([
    ['keywords not in content', 'keyword'],
    ['sign not match', 'sign'],
    ['ip 1.2.3.4 not in whitelist', 'ip'],
  ])('310000 "%s" says the %s check failed and is not retried', async (errmsg, check) => {
    const { r, t } = robot({}, () => ({ body: { errcode: 310000, errmsg } }));
    const err = await r.text('x').catch((e) => e);
    expect(err).toBeInstanceOf(RobotSecurityError);
    expect(err.check).toBe(check);
    expect(t.calls).toHaveLength(1);
  });

  it.each([410100, 130101, 660026])(
    'throttle errcode %i penalises this robot only for 10 minutes',
    async (code) => {
      let now = 1700000000000;
      const t = fakeTransport((req) =>
        req.path.includes('access_token=aaaa') ? { body: { errcode: code, errmsg: 'too fast' } } : ok(),
      );
      const dt = new DingTalk({
        ...testOptions,
        transport: t.send,
        now: () => now,
        rateLimit: { mode: 'fail' },
      });
      const a = dt.webhook({ accessToken: TOKEN, name: 'a' });
      const b = dt.webhook({ accessToken: 'b'.repeat(64), name: 'b' });
      const err = await a.text('x').catch((e) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect(err.scope).toBe('robot');
      expect(err.retryAfterMs).toBe(600_000);
      const local = await a.text('y').catch((e) => e);
      expect(local.scope).toBe('local');
      expect(local.outcome).toBe('not_sent');
      await b.text('z');
      now += 600_001;
      await a.text('again').catch(() => {});
      expect(t.calls.map((c) => c.url.searchParams.get('access_token')!.slice(0, 1))).toEqual([
        'a',
        'b',
        'a',
      ]);
    },
  );

  it('a configured throttle code list replaces the default', async () => {
    const t = fakeTransport(() => ({ body: { errcode: 130101, errmsg: 'too fast' } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send, errors: { robotThrottleCodes: [410100] } });
    const err = await dt
      .webhook({ accessToken: TOKEN })
      .text('x')
      .catch((e) => e);
    expect(err).not.toBeInstanceOf(RateLimitedError);
    expect(err.errcode).toBe(130101);
  });

  it('limits each robot to its budget (20 per minute by default, here scaled to 3 per 2 s)', async () => {
    let now = 0;
    const { r, t } = robot({
      now: () => now,
      rateLimit: { robot: { limit: 3, windowMs: 2_000 }, mode: 'fail' },
    });
    for (let i = 0; i < 3; i++) await r.text(`m${i}`);
    const err = await r.text('m3').catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.scope).toBe('local');
    expect(t.calls).toHaveLength(3);
    now = 2_001;
    await r.text('m4');
    expect(t.calls).toHaveLength(4);
  });

  it('twin: with the limiter off the same burst reaches the server', async () => {
    const { r, t } = robot({ rateLimit: false });
    for (let i = 0; i < 4; i++) await r.text(`m${i}`);
    expect(t.calls).toHaveLength(4);
  });

  it('the limiter key names the robot, never its token', () => {
    const { r } = robot();
    const req = r.buildRequest(webhookMessage.text('x'));
    expect(req.rateKey).toMatch(/^webhook:robot-[0-9a-f]{12}$/);
    expect(req.rateKey).not.toContain(TOKEN);
  });
});

describe('configuration', () => {
  it.each([
    [{}, /required/],
    [{ webhook: 'not a url' }, /not a URL/],
    [{ webhook: 'ftp://x/robot/send?access_token=abc' }, /http/],
    [{ webhook: 'https://oapi.dingtalk.com/robot/send' }, /access_token/],
    [{ accessToken: 'a b' }, /accessToken/],
    [{ webhook: 'https://x/?access_token=abcdefgh', accessToken: 'abcdefgh' }, /either/],
  ])('rejects %j', (o, msg) => {
    expect(() => new CustomRobot({ ...o, env: {} })).toThrow(msg);
  });
});

describe('per-robot budget', () => {
  it('a robot budget applies to that robot only; a client override wins over it', async () => {
    const now = 0;
    const t = fakeTransport(ok);
    const dt = new DingTalk({
      ...testOptions,
      transport: t.send,
      now: () => now,
      rateLimit: { mode: 'fail', overrides: { 'webhook:over': { limit: 3, windowMs: 1_000 } } },
    });
    const tight = dt.webhook({ accessToken: TOKEN, name: 'tight', budget: { limit: 2, windowMs: 1_000 } });
    const loose = dt.webhook({ accessToken: TOKEN, name: 'loose' });
    const over = dt.webhook({ accessToken: TOKEN, name: 'over', budget: { limit: 1, windowMs: 1_000 } });
    await tight.text('1');
    await tight.text('2');
    await expect(tight.text('3')).rejects.toBeInstanceOf(RateLimitedError);
    for (let i = 0; i < 5; i++) await loose.text(`l${i}`);
    for (let i = 0; i < 3; i++) await over.text(`o${i}`);
    await expect(over.text('o3')).rejects.toBeInstanceOf(RateLimitedError);
    expect(t.calls).toHaveLength(2 + 5 + 3);
  });

  it('refuses a nonsense budget', () => {
    expect(() => new CustomRobot({ accessToken: TOKEN, budget: { limit: 0, windowMs: 1 }, env: {} })).toThrow(
      /budget/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { CustomRobot } from './custom-robot.js';
import { checkAccessToken, parseWebhookUrl } from './webhook-url.js';

const TOKEN = 'c0ffee00c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77';

describe('parseWebhookUrl', () => {
  it("reads DingTalk's own webhook URL: the token, and that the robot follows oapiBase", () => {
    const t = parseWebhookUrl(`https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`);
    expect(t.accessToken).toBe(TOKEN);
    expect(t.onOapi).toBe(true);
    expect(t.url?.toString()).toBe('https://oapi.dingtalk.com/robot/send');
  });

  it('keeps another host as given, without the token and a stale signature', () => {
    const t = parseWebhookUrl(`http://127.0.0.1:9/robot/send?x=1&access_token=${TOKEN}&timestamp=1&sign=abc`);
    expect(t).toMatchObject({ accessToken: TOKEN, onOapi: false });
    expect(t.url?.toString()).toBe('http://127.0.0.1:9/robot/send?x=1');
  });

  it('takes a bare token', () => {
    expect(parseWebhookUrl(TOKEN)).toEqual({ accessToken: TOKEN, url: undefined, onOapi: true });
  });

  it.each([
    ['', /required/],
    [`ftp://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`, /http\(s\)/],
    ['https://oapi.dingtalk.com/robot/send', /no access_token/],
    [`https://oapi.dingtalk.com/robot/send?token=${TOKEN}`, /no access_token/],
    [`http://[oapi/robot/send?access_token=${TOKEN}`, /not a URL/],
    [`${TOKEN} ${TOKEN}`, /not a URL/],
  ])('refuses %j with a ValidationError that does not echo the token', (input, why) => {
    let caught: unknown;
    try {
      parseWebhookUrl(input, 'webhook.send');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const e = caught as ValidationError;
    expect(e.field).toBe('webhook');
    expect(e.message).toMatch(why);
    expect(`${e.message} ${JSON.stringify(e)}`).not.toContain(TOKEN.slice(0, 16));
  });

  it('checks a bare token on its own, naming the field', () => {
    expect(checkAccessToken(TOKEN)).toBe(TOKEN);
    expect(() => checkAccessToken('a b', 'robots.ops.webhook')).toThrow(/^robots\.ops\.webhook: /);
    expect(() => checkAccessToken(42)).toThrow(ValidationError);
  });

  it('is the parser CustomRobot uses: the same refusal from its constructor', () => {
    const input = `ftp://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`;
    let fromParser: unknown;
    try {
      parseWebhookUrl(input, 'webhook.send');
    } catch (e) {
      fromParser = e;
    }
    expect(() => new CustomRobot({ webhook: input, env: {} })).toThrow(
      expect.objectContaining({ name: 'ValidationError', message: (fromParser as Error).message }),
    );
  });
});

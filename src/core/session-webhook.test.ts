/** The session-webhook allowlist: only DingTalk's hosts and explicitly added origins, only the session path. */

import { describe, expect, it } from 'vitest';
import { expectThrows } from '../../test/support/expect-throws.js';
import { ConfigError } from './errors.js';
import { checkSessionWebhook, SessionWebhookError, sessionWebhookOrigins } from './session-webhook.js';

const dingtalk = sessionWebhookOrigins();
const SESSION = 'session=9f8e7d6c5b4a39281706f5e4d3c2b1a0';

describe('checkSessionWebhook', () => {
  it("accepts DingTalk's session webhook as DingTalk sends it", () => {
    const url = checkSessionWebhook(`https://oapi.dingtalk.com/robot/sendBySession?${SESSION}`, dingtalk);
    expect(url.hostname).toBe('oapi.dingtalk.com');
  });

  const refused: Array<[string, unknown, SessionWebhookError['reason']]> = [
    ['loopback', `http://127.0.0.1:8080/robot/sendBySession?${SESSION}`, 'origin_not_allowed'],
    [
      'plain http on the right host',
      `http://oapi.dingtalk.com/robot/sendBySession?${SESSION}`,
      'origin_not_allowed',
    ],
    ['another port', `https://oapi.dingtalk.com:8443/robot/sendBySession?${SESSION}`, 'origin_not_allowed'],
    [
      'a look-alike host',
      `https://oapi.dingtalk.com.evil.test/robot/sendBySession?${SESSION}`,
      'origin_not_allowed',
    ],
    ['a sub-domain', `https://x.oapi.dingtalk.com/robot/sendBySession?${SESSION}`, 'origin_not_allowed'],
    ['user-info', `https://oapi.dingtalk.com@127.0.0.1/robot/sendBySession?${SESSION}`, 'credentials'],
    [
      'user-info on the right host',
      `https://a:b@oapi.dingtalk.com/robot/sendBySession?${SESSION}`,
      'credentials',
    ],
    ['a metadata address', 'http://169.254.169.254/latest/meta-data', 'origin_not_allowed'],
    ['another path', 'https://oapi.dingtalk.com/robot/send?access_token=abc', 'path_not_allowed'],
    ['not a URL', 'sendBySession', 'malformed'],
    ['not a string', 42, 'malformed'],
    ['empty', '', 'malformed'],
  ];
  for (const [name, value, reason] of refused) {
    it(`refuses ${name} (${reason})`, () => {
      const e = expectThrows(() => checkSessionWebhook(value, dingtalk), SessionWebhookError);
      expect(e.reason).toBe(reason);
      expect(e.code).toBe('SESSION_WEBHOOK_NOT_ALLOWED');
      expect(e.outcome).toBe('not_sent');
      expect(e.message).not.toContain('9f8e7d6c5b4a39281706f5e4d3c2b1a0');
    });
  }

  it('an added origin (the emulator) is accepted, with its exact port only', () => {
    const origins = sessionWebhookOrigins(['http://127.0.0.1:7070/some/base']);
    expect(checkSessionWebhook(`http://127.0.0.1:7070/robot/sendBySession?${SESSION}`, origins).port).toBe(
      '7070',
    );
    expect(
      expectThrows(
        () => checkSessionWebhook(`http://127.0.0.1:7071/robot/sendBySession?${SESSION}`, origins),
        SessionWebhookError,
      ).reason,
    ).toBe('origin_not_allowed');
  });
});

describe('sessionWebhookOrigins', () => {
  it("always holds DingTalk's hosts and rejects entries that are not http(s) URLs", () => {
    expect(dingtalk).toEqual(['https://oapi.dingtalk.com', 'https://api.dingtalk.com']);
    expect(() => sessionWebhookOrigins(['127.0.0.1:7070'])).toThrow(ConfigError);
    expect(() => sessionWebhookOrigins(['file:///etc/passwd'])).toThrow(ConfigError);
  });
});

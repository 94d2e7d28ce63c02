import { describe, expect, it } from 'vitest';
import { signWebhook, webhookUrl } from './dingtalk-adapter.js';

describe('webhook signing (reference §2.3 worked vector)', () => {
  it('matches the published signature', () => {
    const url = signWebhook(
      'https://oapi.dingtalk.com/robot/send?access_token=TOKEN',
      'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd',
      1700000000000,
    );
    expect(url).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=1700000000000&sign=8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw%3D',
    );
  });

  it('points a full webhook URL or a bare token at the configured host', () => {
    expect(webhookUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', 'http://127.0.0.1:9')).toBe(
      'http://127.0.0.1:9/robot/send?access_token=abc',
    );
    expect(webhookUrl('abc+/=', 'http://h')).toBe('http://h/robot/send?access_token=abc%2B%2F%3D');
  });
});

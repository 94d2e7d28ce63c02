import { describe, expect, it } from 'vitest';
import { eventConsumed, parseClientFrame, pingOpaque, seededRandom } from './frames.js';

describe('parseClientFrame', () => {
  it('reads an ack and ignores extra headers (docs/dingtalk.md §S5)', () => {
    const ack = parseClientFrame(
      JSON.stringify({
        code: 200,
        headers: { messageId: 'm1', contentType: 'application/json', time: '1' },
        message: 'OK',
        data: '{}',
      }),
    );
    expect(ack).toEqual({ code: 200, messageId: 'm1', message: 'OK', data: '{}' });
  });

  it('names the reason for each malformed frame', () => {
    expect(parseClientFrame('{')).toBe('bad_json');
    expect(parseClientFrame('null')).toBe('not_object');
    expect(parseClientFrame('[]')).toBe('not_object');
    expect(parseClientFrame('{"code":"200","headers":{"messageId":"m"}}')).toBe('not_ack');
    expect(parseClientFrame('{"code":200}')).toBe('no_message_id');
    expect(parseClientFrame('{"code":200,"headers":{"messageId":""}}')).toBe('no_message_id');
    expect(parseClientFrame('{"code":200,"headers":{"messageId":7}}')).toBe('no_message_id');
  });

  it('keeps a non-string data as its JSON so the log still shows it', () => {
    const ack = parseClientFrame('{"code":200,"headers":{"messageId":"m"},"data":{"status":"LATER"}}');
    expect(ack).toMatchObject({ data: '{"status":"LATER"}' });
  });
});

describe('eventConsumed (§S5)', () => {
  it.each([
    [200, '{"status":"SUCCESS"}', true],
    [200, '{"status":"LATER"}', false],
    [200, '{"status":"LATER","message":"later"}', false],
    [500, '{"status":"LATER","message":"later"}', false],
    [500, '{"status":"SUCCESS"}', false],
    [200, '{"payload":"LATER"}', true],
    [200, '{"chat":"x"}', true],
    [200, 'LATER not json', true],
    [200, '', true],
  ])('code %i data %s → %s', (code, data, expected) => {
    expect(eventConsumed(code, data)).toBe(expected);
  });
});

describe('pingOpaque', () => {
  it('compares the parsed value, whatever the spacing', () => {
    expect(pingOpaque('{ "opaque" : "abc" }')).toBe('abc');
    expect(pingOpaque('{"opaque":1}')).toBeUndefined();
    expect(pingOpaque('nope')).toBeUndefined();
  });
});

describe('seededRandom', () => {
  it('replays from its seed and stays in [0, 1)', () => {
    const a = seededRandom(9);
    const b = seededRandom(9);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(10)()).not.toBe(xs[0]);
  });
});

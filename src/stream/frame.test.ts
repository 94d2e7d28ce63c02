import { describe, expect, it } from 'vitest';
import {
  callbackAck,
  decodeData,
  errorAck,
  eventLaterAck,
  eventSuccessAck,
  parseFrame,
  pingAck,
  validateFrame,
} from './frame.js';

const text = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const good = {
  specVersion: '1.0',
  type: 'EVENT',
  headers: { messageId: 'm1', topic: '*', time: 1700000000000, eventType: 'x' },
  data: '{"a":1}',
};

describe('parseFrame', () => {
  it('accepts a well-formed frame and turns numeric header values into strings', () => {
    const r = parseFrame(text(good), false, 1_000);
    expect(r).toEqual({
      ok: true,
      frame: {
        specVersion: '1.0',
        type: 'EVENT',
        headers: { messageId: 'm1', topic: '*', time: '1700000000000', eventType: 'x' },
        topic: '*',
        messageId: 'm1',
        data: '{"a":1}',
      },
    });
  });

  it('accepts a SYSTEM disconnect without messageId or data (the notes example)', () => {
    const r = validateFrame({ specVersion: '1.0', type: 'SYSTEM', headers: { topic: 'disconnect' } });
    expect(r.ok && r.frame.messageId === undefined && r.frame.data === '').toBe(true);
  });

  it.each([
    ['binary', text(good), true, 1_000],
    ['too_large', text(good), false, 10],
    ['bad_json', text('{"a":'), false, 1_000],
    ['not_object', text('null'), false, 1_000],
    ['not_object', text('"str"'), false, 1_000],
    ['bad_spec_version', text({ ...good, specVersion: 1 }), false, 1_000],
    ['unknown_type', text({ ...good, type: 'event' }), false, 1_000],
    ['bad_headers', text({ ...good, headers: [] }), false, 1_000],
    ['bad_headers', text({ ...good, headers: { messageId: 'm', topic: '*', x: { y: 1 } } }), false, 1_000],
    ['missing_topic', text({ ...good, headers: { messageId: 'm' } }), false, 1_000],
    ['missing_message_id', text({ ...good, headers: { topic: '*' } }), false, 1_000],
    [
      'missing_message_id',
      text({ specVersion: '1.0', type: 'SYSTEM', headers: { topic: 'ping' } }),
      false,
      1_000,
    ],
    ['bad_data', text({ ...good, data: { a: 1 } }), false, 1_000],
  ] as const)('rejects %s', (reason, raw, binary, max) => {
    const r = parseFrame(raw, binary, max);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('survives deeply nested JSON', () => {
    const r = parseFrame(text(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), false, 1_000_000);
    expect(r.ok).toBe(false);
  });
});

describe('acks', () => {
  it('have the docs/dingtalk.md §S5 shapes', () => {
    expect(eventSuccessAck('m')).toEqual({
      code: 200,
      headers: { contentType: 'application/json', messageId: 'm' },
      message: 'OK',
      data: '{"status":"SUCCESS","message":"success"}',
    });
    expect(JSON.parse(eventLaterAck('m').data)).toEqual({ status: 'LATER', message: 'later' });
    expect(callbackAck('m', { a: 1 }).data).toBe('{"response":{"a":1}}');
    expect(callbackAck('m', undefined).data).toBe('{"response":null}');
    expect(errorAck('m', 404, 'x').code).toBe(404);
  });

  it('echo a ping with the data string unchanged', () => {
    const r = validateFrame({
      specVersion: '1.0',
      type: 'SYSTEM',
      headers: { messageId: 'p1', topic: 'ping' },
      data: '{ "opaque" : "o" }',
    });
    if (!r.ok) throw new Error('expected ok');
    expect(pingAck(r.frame)).toMatchObject({
      code: 200,
      headers: { messageId: 'p1' },
      data: '{ "opaque" : "o" }',
    });
  });

  it('decodeData treats empty data as an empty object and reports bad JSON', () => {
    expect(decodeData('')).toEqual({ ok: true, value: {} });
    expect(decodeData('{x')).toEqual({ ok: false });
  });
});

/**
 * `__proto__` as a JSON key. `JSON.parse` makes it an ordinary own key, but copying it into a fresh
 * object with `out[key] = value` calls the prototype setter instead: the copy then inherits whatever the key
 * held. The hub copies every inbound push that way to clean its text (core/text.ts `storableDeep`), and who wrote a
 * chat message is read from that copy, so a push whose verified `senderStaffId` is absent but whose `__proto__`
 * names an assignee would act as that assignee. Also: a request body or template vars with `__proto__` must not
 * pollute `Object.prototype` or fill a template variable.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storableDeep } from '../../src/core/text.js';
import { TOPIC_BOT_MESSAGE as BOT_TOPIC } from '../../src/stream/index.js';
import { OPS } from '../e2e/hub-helpers.js';
import { type HostileHub, startHostileHub } from './hostile-hub.js';

let h: HostileHub;
beforeAll(async () => {
  h = await startHostileHub();
}, 60_000);
afterAll(async () => h?.close());

describe('__proto__ keys', () => {
  it('storableDeep keeps `__proto__` an own key: nothing is inherited from it', () => {
    const pushed = JSON.parse('{"text":{"content":"done 1"},"__proto__":{"senderStaffId":"alice"}}');
    const clean = storableDeep(pushed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(clean)).toBe(Object.prototype);
    expect(clean['senderStaffId']).toBeUndefined();
    expect(Object.hasOwn(clean, '__proto__')).toBe(true);
  });

  it('attack: a chat push without senderStaffId whose `__proto__` names the assignee cannot act as them', async () => {
    const t = await h.f.hub.assignTask(
      { title: 'Rotate the keys', assignees: ['alice'], group: 'ops' },
      { by: 'api:ops' },
    );
    const payload = JSON.parse(
      JSON.stringify({
        msgtype: 'text',
        text: { content: ` done ${t.id}` },
        msgId: 'proto-1',
        conversationType: '2',
        conversationId: OPS,
        conversationTitle: 'ops',
        senderNick: 'Mallory',
        robotCode: 'dingdemoappkey000001',
      }).replace(/^\{/, '{"__proto__":{"senderStaffId":"alice","senderNick":"Alice Chen"},'),
    );
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    await h.f.hub.inbox.commit('bot:proto-1', 'stream', BOT_TOPIC, payload);
    await h.f.hub.drainInbox();
    const after = await h.f.hub.getTask(t.id);
    expect(after?.state).toBe('open');
    expect(after?.history.map((e) => e.kind)).toEqual(['created']);
  });

  it('attack: request bodies and template vars carrying `__proto__` pollute nothing and fill no variable', async () => {
    const post = (body: string) =>
      fetch(`${h.server.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        body,
      });
    const top = await post('{"__proto__":{"polluted":"yes"},"group":"ops","text":"hi"}');
    expect(top.status).toBeLessThan(500);
    const vars = await post(
      '{"group":"ops","text":"hi {{polluted}}","vars":{"__proto__":{"polluted":"yes"}}}',
    );
    expect(vars.status).toBe(400);
    expect(await vars.text()).toContain('missing template variables: polluted');
    const ctor = await post('{"group":"ops","text":"hi {{constructor}} {{__proto__}}","vars":{}}');
    expect(ctor.status).toBe(400);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

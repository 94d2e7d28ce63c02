import { describe, expect, it } from 'vitest';
import { fakeTransport, type Reply, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { TimeoutError, ValidationError } from '../../core/errors.js';
import { noticeMessage } from '../notice/notice-messages.js';

function client(script: (n: number) => Reply) {
  const t = fakeTransport((_r, n) => script(n));
  return { dt: new DingTalk({ ...testOptions, transport: t.send }), t };
}

describe('chat (docs/dingtalk.md §4)', () => {
  it('creates a scene group with a snake_case body and remembers the id pair', async () => {
    const { dt, t } = client(() => ({ body: { open_conversation_id: 'cidX==', chat_id: 'chatX' } }));
    const r = await dt.chat.createSceneGroup({
      title: 'Incident 42',
      templateId: 'tpl',
      ownerUserId: 'boss',
      userIds: ['a', 'b'],
      uuid: 'inc-42',
      options: { searchable: 1 },
    });
    expect(r).toEqual({ openConversationId: 'cidX==', chatId: 'chatX' });
    expect(t.calls[0]!.path).toBe('/v1.0/im/sceneGroup/create');
    expect(t.calls[0]!.json).toEqual({
      title: 'Incident 42',
      template_id: 'tpl',
      owner_user_id: 'boss',
      user_ids: ['a', 'b'],
      uuid: 'inc-42',
      searchable: 1,
    });
    expect(dt.chat.chatIdOf('cidX==')).toBe('chatX');
    expect(dt.chat.chatIdOf('cidY==')).toBeUndefined();
  });

  it('retries a scene-group create after an unknown outcome only with a uuid', async () => {
    let n = 0;
    const flaky = () =>
      ++n % 2 === 1
        ? new TimeoutError('t', 1, { outcome: 'unknown' })
        : { body: { open_conversation_id: 'c' } };
    const { dt, t } = client(flaky);
    await dt.chat.createSceneGroup({ title: 't', templateId: 'x', ownerUserId: 'o', uuid: 'u' });
    expect(t.calls).toHaveLength(2);
    await expect(
      dt.chat.createSceneGroup({ title: 't', templateId: 'x', ownerUserId: 'o' }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(t.calls).toHaveLength(3);
  });

  it('refuses a body key override through options', async () => {
    const { dt, t } = client(() => ({ body: {} }));
    await expect(
      dt.chat.createSceneGroup({
        title: 't',
        templateId: 'x',
        ownerUserId: 'o',
        options: { owner_user_id: 'evil' },
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(t.calls).toHaveLength(0);
  });

  it('converts chatid → openConversationId on the path and records the pair', async () => {
    const { dt, t } = client(() => ({ body: { openConversationId: 'cidZ==' } }));
    expect(await dt.chat.toOpenConversationId('chat/z')).toBe('cidZ==');
    expect(t.calls[0]!.path).toBe('/v1.0/im/chat/chat%2Fz/convertToOpenConversationId');
    expect(t.calls[0]!.method).toBe('POST');
    expect(dt.chat.chatIdOf('cidZ==')).toBe('chat/z');
  });

  it('sends legacy chat/send with the notice formats, 2048-byte cap', async () => {
    const { dt, t } = client(() => ({ body: { errcode: 0, messageId: 'm1' } }));
    expect(await dt.chat.send({ chatId: 'chatX', message: noticeMessage.file('@f') })).toEqual({
      messageId: 'm1',
    });
    expect(t.calls[0]!.origin).toBe('https://oapi.dingtalk.com');
    expect(t.calls[0]!.url.pathname).toBe('/chat/send');
    expect(t.calls[0]!.json).toEqual({ chatid: 'chatX', msg: { msgtype: 'file', file: { media_id: '@f' } } });
    await expect(
      dt.chat.send({ chatId: 'chatX', message: noticeMessage.text('x'.repeat(3000)) }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

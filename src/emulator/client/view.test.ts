import { describe, expect, it } from 'vitest';
import { demoOrg } from '../demo-org.js';
import { EmulatorState, fingerprint } from '../state.js';
import type { MessageRecord } from '../types.js';
import { clientView } from './view.js';

const ENG = 'cidDemoEngineering0001==';
const PRODUCT = 'cidDemoProduct000003==';
const APP = 'dingdemoappkey000001';

function state(): EmulatorState {
  return new EmulatorState(demoOrg(), { seed: 1, now: () => 1_000 });
}

function add(
  s: EmulatorState,
  m: Partial<MessageRecord> & Pick<MessageRecord, 'conversation'>,
): MessageRecord {
  return s.addMessage({
    seq: s.nextMessageSeq(),
    at: 1_000,
    source: 'custom_robot',
    type: 'text',
    content: { text: { content: 'x' } },
    text: 'x',
    atUserIds: [],
    atMobiles: [],
    isAtAll: false,
    readBy: [],
    fingerprint: fingerprint(Math.random()),
    ...m,
  });
}

describe('clientView', () => {
  it('names apps without their secrets or callback keys, and robots by name', () => {
    const s = state();
    s.apps.get(APP)!.homepageUrl = 'http://127.0.0.1:8787/app/';
    const text = JSON.stringify(clientView(s, 'alice'));
    for (const secret of [
      s.org.apps[0]!.appSecret,
      s.org.apps[0]!.callback!.aesKey,
      s.org.apps[0]!.callback!.token,
      ...s.org.customRobots.flatMap((r) => [r.token, r.security.secret ?? 'none']),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(clientView(s, 'alice').apps).toEqual([
      { appKey: APP, name: 'Dingkit Hub', robotCode: APP, homepageUrl: 'http://127.0.0.1:8787/app/' },
    ]);
  });

  it('an unknown person sees only the people to choose from', () => {
    const v = clientView(state(), 'nobody');
    expect(v.me).toBeUndefined();
    expect(v.groups).toEqual([]);
    expect(v.people.map((p) => p.userId)).toContain('alice');
  });

  it('lists only the groups the person is in, with the bot and the members that can be @-ed', () => {
    const v = clientView(state(), 'zhangsan');
    expect(v.groups.map((g) => g.id)).toEqual([ENG, 'cidDemoOps000000002==']);
    expect(v.groups[0]!.bot).toEqual({ robotCode: APP, name: 'Dingkit Hub' });
    expect(v.groups[0]!.members.find((m) => m.userId === 'alice')).toEqual({
      userId: 'alice',
      name: 'Alice Chen',
      title: 'SRE',
      mobile: '13800000004',
    });
    expect(clientView(state(), 'lisi').groups.map((g) => g.id)).toContain(PRODUCT);
  });

  it('keeps what tells a real @ from a text-only one, and names the bot a person @-ed', () => {
    const s = state();
    add(s, { conversation: ENG, text: '@13800000004 @Bob Li', atUserIds: ['alice'] });
    add(s, { conversation: ENG, source: 'user', from: 'bob', atBot: APP, text: 'done 1' });
    const [robot, person] = clientView(s, 'alice').groups[0]!.messages;
    expect(robot).toMatchObject({ atUserIds: ['alice'], isAtAll: false });
    expect(robot).not.toHaveProperty('atBot');
    expect(person).toMatchObject({ from: { userId: 'bob', name: 'Bob Li' }, atBot: 'Dingkit Hub' });
  });

  it('gives a file message its name, size and a same-origin download only when the bytes are held', () => {
    const s = state();
    s.media.set('@m1', {
      mediaId: '@m1',
      type: 'file',
      filename: 'a.pdf',
      contentType: 'application/pdf',
      size: 3,
      sha256: '',
      createdAt: 1,
    });
    add(s, {
      conversation: ENG,
      source: 'app_robot',
      robot: APP,
      type: 'sampleFile',
      content: { mediaId: '@m1', fileName: '清单.pdf', fileType: 'pdf' },
    });
    expect(clientView(s, 'alice').groups[0]!.messages[0]!.file).toEqual({ name: '清单.pdf', size: 3 });
    s.keepMediaBytes('@m1', Buffer.from('abc'));
    expect(clientView(s, 'alice').groups[0]!.messages[0]!.file).toEqual({
      name: '清单.pdf',
      size: 3,
      url: '/_emulator/files/%40m1',
    });
  });

  it("shows a card's current values with the person's private data over them", () => {
    const s = state();
    s.cards.set('c1', {
      outTrackId: 'c1',
      cardTemplateId: 't',
      openSpaceId: '',
      spaceType: 'IM_GROUP',
      spaceId: ENG,
      appKey: APP,
      cardParamMap: { title: 'now', status: 'open' },
      privateData: { alice: { status: 'mine' } },
      createdAt: 1,
      updates: 1,
      clicks: 2,
    });
    add(s, {
      conversation: ENG,
      source: 'card',
      type: 't',
      content: { outTrackId: 'c1', cardParamMap: { title: 'then' } },
    });
    expect(clientView(s, 'alice').groups[0]!.messages[0]!.card).toEqual({
      outTrackId: 'c1',
      templateId: 't',
      params: { title: 'now', status: 'mine' },
      clicks: 2,
    });
    expect(clientView(s, 'bob').groups[0]!.messages[0]!.card!.params).toEqual({
      title: 'now',
      status: 'open',
    });
  });

  it('lists delivered notices only, and the Todos the person executes or takes part in', () => {
    const s = state();
    const notice = {
      taskId: 1,
      at: 1,
      agentId: 1,
      appKey: APP,
      userId: 'alice',
      msg: { msgtype: 'text' },
      fingerprint: '',
    };
    s.notices.push(
      notice,
      { ...notice, taskId: 2, forbiddenCode: 143106 },
      { ...notice, taskId: 3, userId: 'bob' },
    );
    const todo = {
      id: 't1',
      owner: 'unionZhangSan0001',
      subject: 's',
      done: false,
      executorIds: ['unionAlice0000004'],
      participantIds: ['unionBob000000005'],
      detailUrl: { appUrl: 'http://127.0.0.1:1/app/tasks/1' },
      creatorId: 'unionZhangSan0001',
      modifierId: 'unionZhangSan0001',
      createdTime: 1,
      modifiedTime: 1,
      bizTag: 'x',
    };
    s.todos.set('t1', todo);
    s.todos.set('t2', { ...todo, id: 't2', isOnlyShowExecutor: true });
    s.todos.set('t3', { ...todo, id: 't3', deleted: true });
    const alice = clientView(s, 'alice');
    expect(alice.notices.map((n) => n.taskId)).toEqual([1]);
    expect(alice.todos.map((t) => [t.id, t.canTick, t.appUrl])).toEqual([
      ['t1', true, 'http://127.0.0.1:1/app/tasks/1'],
      ['t2', true, 'http://127.0.0.1:1/app/tasks/1'],
    ]);
    expect(clientView(s, 'bob').todos.map((t) => [t.id, t.canTick])).toEqual([['t1', false]]);
    expect(clientView(s, 'zhangsan').todos).toEqual([]);
  });
});

describe('media bytes for downloads', () => {
  it('keeps the newest under the cap, dropping the oldest first (the newest even when alone over it)', () => {
    const s = new EmulatorState(demoOrg(), { seed: 1, mediaBytesCap: 10 });
    s.keepMediaBytes('@a', Buffer.alloc(4));
    s.keepMediaBytes('@b', Buffer.alloc(4));
    expect([...s.mediaBytes.keys()]).toEqual(['@a', '@b']);
    s.keepMediaBytes('@c', Buffer.alloc(4));
    expect([...s.mediaBytes.keys()]).toEqual(['@b', '@c']);
    s.keepMediaBytes('@big', Buffer.alloc(20));
    expect([...s.mediaBytes.keys()]).toEqual(['@big']);
    s.reset();
    expect(s.mediaBytes.size).toBe(0);
  });
});

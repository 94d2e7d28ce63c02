/**
 * Work notifications, media, users, Todo, chats and cards over real sockets against the emulator, each result
 * checked against the emulator's records; includes the silent-drop path of docs/dingtalk.md §5.2 (duplicate content → 143106 in
 * the send result while the send itself answered errcode 0).
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appMessage, noticeMessage } from '../../src/api/index.js';
import type { DingTalk } from '../../src/client.js';
import { PlatformError } from '../../src/core/errors.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { clientFor, ENG, OPS } from './api-support.js';

let emu: Emulator;
let dt: DingTalk;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator({ seed: 12 });
  dt = clientFor(emu);
  dir = await mkdtemp(join(tmpdir(), 'dingkit-api-it-'));
});
afterAll(async () => {
  await dt.close();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('work notifications', () => {
  it('sends, reports progress and result, and recalls', async () => {
    const { taskId } = await dt.notice.send({
      userIds: ['zhangsan', 'lisi'],
      message: noticeMessage.markdown('Leave', '**approved**'),
    });
    expect(taskId).toMatch(/^\d+$/);
    expect(emu.notices('zhangsan').some((n) => JSON.stringify(n).includes('approved'))).toBe(true);
    const p = await dt.notice.progress(taskId);
    expect(p.percent).toBeGreaterThanOrEqual(0);
    const r = await dt.notice.result(taskId);
    expect(r.warnings).toEqual([]);
    await dt.notice.recall(taskId);
  });

  it('surfaces a duplicate-content drop as a 143106 warning although the send succeeded', async () => {
    const msg = noticeMessage.text(`same content ${Date.now()}`);
    await dt.notice.send({ userIds: ['wangwu'], message: msg });
    const second = await dt.notice.send({ userIds: ['wangwu', 'alice'], message: msg });
    const r = await dt.notice.result(second.taskId);
    expect(r.forbiddenUserIds).toEqual(['wangwu']);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ kind: 'forbidden', userId: 'wangwu', code: 143106 });
    expect(r.warnings[0]!.reason).toMatch(/same content/);
  });
});

describe('media', () => {
  it('uploads a file from a path (streamed) and sends it via app robot and work notification', async () => {
    const path = join(dir, 'report.pdf');
    await writeFile(path, Buffer.alloc(256 * 1024, 0x25));
    const up = await dt.media.upload({ type: 'file', source: path });
    expect(up.mediaId).toMatch(/^[@$]/);
    expect(up.size).toBe(256 * 1024);
    const { processQueryKey } = await dt.robot.sendToGroup({
      openConversationId: OPS,
      message: appMessage.file(up.mediaId, 'report.pdf'),
    });
    expect(processQueryKey).toBeTruthy();
    await dt.notice.send({ userIds: ['bob'], message: noticeMessage.file(up.mediaId) });
    expect(emu.notices('bob').some((n) => JSON.stringify(n).includes(up.mediaId))).toBe(true);
  });

  it('keeps a non-ASCII file name intact', async () => {
    const up = await dt.media.upload({ type: 'file', source: Buffer.from('x'), fileName: '季度报告 Q3.pdf' });
    expect(up.fileName).toBe('季度报告 Q3.pdf');
    expect(emu.state.media.get(up.mediaId)?.filename).toBe('季度报告 Q3.pdf');
    expect(emu.state.media.get(up.mediaId)?.size).toBe(1);
  });

  it('uploads a Buffer image', async () => {
    const up = await dt.media.upload({
      type: 'image',
      source: Buffer.from('GIF89a fake'),
      fileName: 'x.gif',
    });
    expect(up.mediaId).toBeTruthy();
    expect(up.type).toBe('image');
  });
});

describe('users', () => {
  it('mobile → userId → unionId → userId', async () => {
    const userId = await dt.users.userIdByMobile('13800000004');
    expect(userId).toBe('alice');
    const unionId = await dt.users.unionIdOf(userId);
    expect(unionId).toBe('unionAlice0000004');
    expect(await dt.users.byUnionId(unionId)).toMatchObject({ userId: 'alice' });
    const d = await dt.users.get('alice');
    expect(d.name).toBe('Alice Chen');
  });

  it('an unknown mobile is a typed platform error', async () => {
    const err = await dt.users.userIdByMobile('13999999999').catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
  });
});

describe('todo', () => {
  it('create, get, update done, list, delete — unionIds throughout', async () => {
    const owner = 'unionZhangSan0001';
    const task = await dt.todo.create(owner, {
      subject: 'Review PR #12',
      executorIds: ['unionLiSi00000002'],
      detailUrl: { appUrl: 'https://git.example/pr/12', pcUrl: 'https://git.example/pr/12' },
      sourceId: `pr-12-${Date.now()}`,
      priority: 30,
      dueTime: Date.now() + 86_400_000,
    });
    expect(task.id).toBeTruthy();
    expect(emu.todos().some((t) => t.id === task.id || JSON.stringify(t).includes(task.id))).toBe(true);
    const got = await dt.todo.get(owner, task.id);
    expect(got.subject).toBe('Review PR #12');
    await dt.todo.update(owner, task.id, { done: true, operatorId: owner });
    expect((await dt.todo.get(owner, task.id)).done).toBe(true);
    const page = await dt.todo.list(owner, { isDone: true });
    expect(page.todoCards.some((c) => c.taskId === task.id)).toBe(true);
    await dt.todo.delete(owner, task.id, { operatorId: owner });
    await expect(dt.todo.get(owner, task.id)).rejects.toBeInstanceOf(PlatformError);
  });

  it('a duplicate sourceId is refused by DingTalk (task exist)', async () => {
    const input = {
      subject: 's',
      detailUrl: { appUrl: 'https://a.example', pcUrl: 'https://a.example' },
      sourceId: `dup-${Date.now()}`,
    };
    await dt.todo.create('unionBob000000005', input);
    const err = await dt.todo.create('unionBob000000005', input).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.platformCode).toBe('todo.taskCreate.paramError');
  });
});

describe('chats and cards', () => {
  it('converts chatid → openConversationId and remembers the pair', async () => {
    const cid = await dt.chat.toOpenConversationId('chatdemo00000000000000000000000001');
    expect(cid).toBe(ENG);
    expect(dt.chat.chatIdOf(ENG)).toBe('chatdemo00000000000000000000000001');
  });

  it('creates a scene group and sends to it with legacy chat/send', async () => {
    const g = await dt.chat.createSceneGroup({
      title: 'Incident 42',
      templateId: 'tpl-incident',
      ownerUserId: 'alice',
      userIds: ['alice', 'bob'],
      uuid: `inc-${Date.now()}`,
    });
    expect(g.openConversationId).toBeTruthy();
    expect(g.chatId).toBeTruthy();
    expect(dt.chat.chatIdOf(g.openConversationId)).toBe(g.chatId);
    const r = await dt.chat.send({ chatId: g.chatId!, message: noticeMessage.text('war room open') });
    expect(r.messageId).toBeTruthy();
  });

  it('creates, delivers and updates a card in a group', async () => {
    const outTrackId = `deploy-${Date.now()}`;
    const r = await dt.card.createAndDeliver({
      cardTemplateId: 'tpl.schema',
      outTrackId,
      cardData: { status: 'running' },
      to: { group: OPS },
      callbackType: 'STREAM',
    });
    expect(r.outTrackId).toBe(outTrackId);
    expect(r.deliverResults[0]?.success).toBe(true);
    await dt.card.update({ outTrackId, cardData: { status: 'done' }, updateCardDataByKey: true });
    await dt.card.stream({ outTrackId, key: 'answer', content: 'Hel', isFull: true });
    await dt.card.stream({ outTrackId, key: 'answer', content: 'lo', isFinalize: true });
    expect(emu.state.cards.get(outTrackId)?.cardParamMap['answer']).toBe('Hello');
    expect(emu.state.cards.get(outTrackId)?.cardParamMap['status']).toBe('done');
  });
});

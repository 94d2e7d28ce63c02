import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CustomRobot } from '../../api/robot/custom-robot.js';
import { WEBHOOK_MAX_BYTES } from '../../api/robot/webhook-validate.js';
import { parseConfig } from '../config.js';
import { type MentionTarget, planMessage, robotMentions } from './plan.js';

const cfg = parseConfig(
  {
    apps: { hub: { appKey: 'dingappkey0001', appSecret: 'app-secret-0001', agentId: 42 } },
    robots: {
      alerts: { webhook: 'a'.repeat(64), secret: 'SECabc' },
      news: { webhook: 'b'.repeat(64), keywords: ['notice'] },
    },
    groups: {
      ops: { openConversationId: 'cidOps==', app: 'hub', robot: 'alerts' },
      eng: { openConversationId: 'cidEng==', app: 'hub' },
      product: { robot: 'news' },
    },
  },
  {},
);

const alice: MentionTarget = { name: 'Alice', userId: 'alice01', mobile: '13800000004' };
const bob: MentionTarget = { name: 'Bob', mobile: '13800000005' };

describe('routing', () => {
  it('sends to a group through its custom robot when it has one, else its app robot', () => {
    const ops = planMessage({ group: 'ops', text: 'hi', format: 'text' }, cfg);
    expect(ops.map((j) => [j.channel, j.payload.t, j.rateKey])).toEqual([
      ['robot', 'webhook', 'webhook:alerts'],
    ]);
    const eng = planMessage({ group: 'eng', text: 'hi', format: 'markdown', title: 'T' }, cfg);
    expect(eng[0]!.payload).toEqual({
      t: 'group',
      app: 'hub',
      openConversationId: 'cidEng==',
      msgKey: 'sampleMarkdown',
      msgParam: { title: 'T', text: 'hi' },
    });
  });

  it('honours via and refuses channels the destination lacks', () => {
    expect(planMessage({ group: 'ops', via: 'app', text: 'x', format: 'text' }, cfg)[0]!.channel).toBe('app');
    expect(() => planMessage({ group: 'eng', via: 'robot', text: 'x', format: 'text' }, cfg)).toThrow(
      /no custom robot/,
    );
    expect(() => planMessage({ to: [alice], via: 'robot', text: 'x', format: 'text' }, cfg)).toThrow(
      /group only/,
    );
    expect(() => planMessage({ group: 'nope', text: 'x', format: 'text' }, cfg)).toThrow(/no group named/);
    expect(() => planMessage({ text: 'x', format: 'text' }, cfg)).toThrow(/exactly one/);
  });

  it('sends to people one job each, as app-robot 1:1 or work notification', () => {
    const jobs = planMessage({ to: [alice, { name: 'Li', userId: 'li' }], text: 'x', format: 'text' }, cfg);
    expect(jobs.map((j) => [j.target, j.payload.t])).toEqual([
      ['Alice', 'oto'],
      ['Li', 'oto'],
    ]);
    const n = planMessage({ to: [alice], via: 'notice', text: 'x', format: 'text' }, cfg);
    expect(n[0]!.payload).toMatchObject({ t: 'notice', userIds: ['alice01'], msg: { msgtype: 'text' } });
  });
});

describe('mentions', () => {
  it('fills `at` and writes the handle into the text so it renders (docs/dingtalk.md §2.5)', () => {
    const r = robotMentions({
      group: 'ops',
      text: 'ping @Alice please',
      format: 'text',
      mention: [alice, bob],
    });
    expect(r.text).toBe('ping @alice01 please\n@13800000005');
    expect(r.at).toEqual({ atUserIds: ['alice01'], atMobiles: ['13800000005'], isAtAll: false });
  });

  it('writes names for app-robot sends, which cannot @ (docs/dingtalk.md §3.1)', () => {
    const [job] = planMessage({ group: 'eng', text: 'ping', format: 'text', mention: [alice] }, cfg);
    expect(job!.payload).toMatchObject({ msgParam: { content: 'ping\n@Alice' } });
  });

  it('refuses more than 50 people', () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ name: `p${i}`, userId: `u${i}` }));
    expect(() => robotMentions({ group: 'ops', text: 'x', format: 'text', mention: many })).toThrow(/50/);
  });
});

describe('keywords', () => {
  it('refuses a text without any of the robot keywords before anything is sent', () => {
    expect(() => planMessage({ group: 'product', text: 'hello', format: 'text' }, cfg)).toThrow(/keywords/);
    expect(planMessage({ group: 'product', text: 'a notice', format: 'text' }, cfg)).toHaveLength(1);
  });
});

describe('splitting over the caps', () => {
  it('cuts a long robot text into ordered parts within 20,000 bytes, all on one message-scoped order key', () => {
    const text = Array.from({ length: 3000 }, (_, i) => `line ${i} 中文内容 "quoted"`).join('\n');
    const jobs = planMessage({ group: 'ops', text, format: 'text', mention: [alice] }, cfg);
    expect(jobs.length).toBeGreaterThan(2);
    for (const j of jobs) {
      expect(
        Buffer.byteLength(JSON.stringify(j.payload.t === 'webhook' ? j.payload.body : '')),
      ).toBeLessThanOrEqual(20_000);
      // ops is not an ordered group: the parts are ordered among themselves only.
      expect([j.orderKey, j.orderScope]).toEqual(['group:ops', 'message']);
    }
    expect(jobs.map((j) => j.part?.index)).toEqual(jobs.map((_, i) => i + 1));
    // Nothing lost, order kept: every line appears once, in order, across the parts.
    const joined = jobs
      .map((j) =>
        j.payload.t === 'webhook' && j.payload.body.msgtype === 'text' ? j.payload.body.text.content : '',
      )
      .join('\n');
    let at = -1;
    for (const i of [0, 1, 1500, 2999]) {
      const pos = joined.indexOf(`line ${i} `);
      expect(pos).toBeGreaterThan(at);
      at = pos;
    }
    // The mention lands in the last part, which carries `at`.
    const last = jobs.at(-1)!.payload;
    expect(last.t === 'webhook' && 'at' in last.body && last.body.at).toBeTruthy();
    const first = jobs[0]!.payload;
    expect(first.t === 'webhook' && 'at' in first.body && first.body.at).toBeFalsy();
  });

  it('leaves room in every webhook part for the msgUuid the sender adds, so the library never refuses a part', () => {
    // Escaped quotes put these parts within a few bytes of the cap (19,985 of 20,000 before room was kept).
    const text = Array.from({ length: 150 }, () => 'x'.repeat(399)).join('"');
    const jobs = planMessage({ group: 'ops', text, format: 'text' }, cfg);
    expect(jobs.length).toBeGreaterThan(1);
    const robot = new CustomRobot({ accessToken: 'a'.repeat(64), env: {} });
    for (const j of jobs) {
      if (j.payload.t !== 'webhook') throw new Error('expected webhook jobs');
      const req = robot.buildRequest(j.payload.body, { msgUuid: randomUUID() });
      expect(Buffer.byteLength(JSON.stringify(req.body))).toBeLessThanOrEqual(WEBHOOK_MAX_BYTES);
    }
  });

  it('keeps work notifications within 2,048 bytes', () => {
    const jobs = planMessage({ to: [alice], via: 'notice', text: '通知'.repeat(2000), format: 'text' }, cfg);
    expect(jobs.length).toBeGreaterThanOrEqual(6);
    for (const j of jobs)
      expect(
        Buffer.byteLength(JSON.stringify(j.payload.t === 'notice' ? j.payload.msg : '')),
      ).toBeLessThanOrEqual(2048);
  });

  it('gives every part of a keyword robot message a keyword', () => {
    const text = `notice ${'word '.repeat(6000)}`;
    const jobs = planMessage({ group: 'product', text, format: 'text' }, cfg);
    expect(jobs.length).toBeGreaterThan(1);
    for (const j of jobs) expect(JSON.stringify(j.payload)).toContain('notice');
  });
});

describe('ordering', () => {
  const ordered = parseConfig(
    {
      apps: { hub: { appKey: 'dingappkey0001', appSecret: 'app-secret-0001', agentId: 42 } },
      robots: { alerts: { webhook: 'a'.repeat(64) } },
      groups: {
        ops: { openConversationId: 'cidOps==', app: 'hub', robot: 'alerts', ordered: true },
        eng: { openConversationId: 'cidEng==', app: 'hub' },
      },
      ordering: { people: true },
    },
    {},
  );
  const long = Array.from({ length: 3000 }, (_, i) => `line ${i} of a long text`).join('\n');
  const keys = (jobs: ReturnType<typeof planMessage>) => jobs.map((j) => [j.orderKey, j.orderScope]);

  it('leaves a one-part message of an unordered conversation without a key (sent in parallel)', () => {
    expect(keys(planMessage({ group: 'ops', text: 'hi', format: 'text' }, cfg))).toEqual([
      [undefined, undefined],
    ]);
    expect(keys(planMessage({ to: [alice], text: 'hi', format: 'text' }, cfg))).toEqual([
      [undefined, undefined],
    ]);
  });

  it('puts every message of an ordered group, split or not, on the group key', () => {
    expect(keys(planMessage({ group: 'ops', text: 'hi', format: 'text' }, ordered))).toEqual([
      ['group:ops', undefined],
    ]);
    const parts = planMessage({ group: 'ops', text: long, format: 'text' }, ordered);
    expect(parts.length).toBeGreaterThan(1);
    for (const j of parts) expect([j.orderKey, j.orderScope]).toEqual(['group:ops', undefined]);
    // The group next door keeps the default (unordered).
    expect(keys(planMessage({ group: 'eng', text: 'hi', format: 'text' }, ordered))).toEqual([
      [undefined, undefined],
    ]);
  });

  it('lets the request override the conversation setting both ways', () => {
    expect(keys(planMessage({ group: 'ops', text: 'hi', format: 'text', ordered: false }, ordered))).toEqual([
      [undefined, undefined],
    ]);
    expect(keys(planMessage({ group: 'eng', text: 'hi', format: 'text', ordered: true }, ordered))).toEqual([
      ['group:eng', undefined],
    ]);
    const split = planMessage({ group: 'ops', text: long, format: 'text', ordered: false }, ordered);
    for (const j of split) expect([j.orderKey, j.orderScope]).toEqual(['group:ops', 'message']);
  });

  it('orders people by ordering.people, one key per person', () => {
    const jobs = planMessage(
      { to: [alice, { name: 'Li', userId: 'li' }], text: 'x', format: 'text' },
      ordered,
    );
    expect(keys(jobs)).toEqual([
      [`person:${alice.userId}`, undefined],
      ['person:li', undefined],
    ]);
  });

  it('uses the caller sequence (a task) in an unordered group, the group key in an ordered one', () => {
    expect(
      keys(planMessage({ group: 'eng', text: 'x', format: 'text', sequence: 'task:7' }, ordered)),
    ).toEqual([['task:7', undefined]]);
    expect(
      keys(planMessage({ group: 'ops', text: 'x', format: 'text', sequence: 'task:7' }, ordered)),
    ).toEqual([['group:ops', undefined]]);
  });
});

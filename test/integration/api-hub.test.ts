/**
 * The HTTP API over the REAL hub (store, dispatcher, emulator): requests that pass the API's contracts but are
 * wrong for this hub — unknown groups and people, missing template variables, forbidden file types, edits naming
 * unknown people or groups or a missing task, moves a task's state forbids, ids that do not exist — must be refused
 * with a 4xx and a reason, never a 5xx: a hub error that is not typed would surface here as a 500. Also the hub-backed happy path through the API and the SSE feed.
 */

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type HubApi, type HubFixture, hubApi, startTestHub } from '../e2e/hub-helpers.js';

let fx: HubFixture & { fresh: unknown };
let app: HubApi['app'];
let token = '';
let groups: string[] = [];
let people: string[] = [];
let taskId = 0;
/** A task only edits touch (moves may close `taskId`). */
let editId = 0;

function post(body: unknown, headers: Record<string, string> = {}) {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
const get = () => ({ headers: { authorization: `Bearer ${token}` } });

const alias = fc.stringMatching(/^[a-z][a-z0-9_-]{2,20}$/);
const name = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s.length > 0);

interface Case {
  label: string;
  path: string;
  init: RequestInit;
  /** Must be refused (4xx); otherwise anything but a 5xx is fine. */
  mustRefuse: boolean;
}

function cases(): fc.Arbitrary<Case> {
  const unknownGroup = alias
    .filter((a) => !groups.includes(a))
    .map(
      (g): Case => ({
        label: `unknown group ${g}`,
        path: '/v1/messages',
        init: post({ group: g, text: 'x' }),
        mustRefuse: true,
      }),
    );
  const unknownPerson = name
    .filter((n) => !people.includes(n) && !Object.keys(fx.hub.config.people).includes(n))
    .map(
      (n): Case => ({
        label: `unknown person ${n}`,
        path: '/v1/messages',
        init: post({ to: [n], text: 'x' }),
        mustRefuse: true,
      }),
    );
  const missingVar = fc.tuple(fc.constantFrom(...groups), fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)).map(
    ([g, v]): Case => ({
      label: `missing var ${v}`,
      path: '/v1/messages',
      init: post({ group: g, text: `hi {{${v}}}` }),
      mustRefuse: true,
    }),
  );
  const anySend = fc
    .record({
      group: fc.constantFrom(...groups),
      text: fc.string({ minLength: 1, maxLength: 300 }),
      via: fc.option(fc.constantFrom('robot', 'app', 'notice'), { nil: undefined }),
      format: fc.option(fc.constantFrom('text', 'markdown'), { nil: undefined }),
      title: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
      mention: fc.option(fc.array(fc.oneof(fc.constantFrom(...people), name), { maxLength: 3 }), {
        nil: undefined,
      }),
      mentionAll: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map(
      (b): Case => ({
        label: 'send variant',
        path: '/v1/messages',
        init: post(JSON.parse(JSON.stringify(b))),
        mustRefuse: false,
      }),
    );
  const badAssignee = fc
    .tuple(
      name.filter((n) => !people.includes(n) && !Object.keys(fx.hub.config.people).includes(n)),
      fc.option(alias, { nil: undefined }),
    )
    .map(
      ([n, g]): Case => ({
        label: `task for unknown ${n}`,
        path: '/v1/tasks',
        init: post({ title: 't', assignees: [n], ...(g ? { group: g } : {}) }),
        mustRefuse: true,
      }),
    );
  const taskMove = fc.tuple(fc.constantFrom('start', 'done', 'cancel', 'reopen'), fc.boolean()).map(
    ([a, existing]): Case => ({
      label: `task ${a} ${existing ? 'existing' : 'missing'}`,
      path: `/v1/tasks/${existing ? taskId : 999_999}/${a}`,
      init: post({}),
      mustRefuse: !existing,
    }),
  );
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const someone = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...people) },
    { weight: 1, arbitrary: name },
  );
  const taskEdit = fc
    .record({
      existing: fc.boolean(),
      title: opt(fc.string({ minLength: 1, maxLength: 60 }).filter((t) => t.trim() !== '')),
      description: opt(fc.oneof(fc.constant(null), fc.string({ maxLength: 60 }))),
      due: opt(
        fc.oneof(
          fc.constant(null),
          fc
            .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) })
            .map((t) => new Date(t).toISOString()),
        ),
      ),
      group: opt(fc.oneof(fc.constant(null), fc.constantFrom(...groups), alias)),
      addAssignees: opt(fc.array(someone, { minLength: 1, maxLength: 3 })),
      removeAssignees: opt(fc.array(someone, { minLength: 1, maxLength: 3 })),
    })
    .map(({ existing, ...patch }): Case => {
      const body = JSON.parse(JSON.stringify(patch)) as Record<string, unknown>;
      return {
        label: `edit ${existing ? 'existing' : 'missing'} ${JSON.stringify(body).slice(0, 80)}`,
        path: `/v1/tasks/${existing ? editId : 999_999}`,
        init: { ...post(body), method: 'PATCH' },
        // An unknown id is always refused; the rest may pass or be refused (unknown names, a closed task...).
        mustRefuse: !existing,
      };
    });
  const badFile = fc
    .tuple(fc.constantFrom('a.exe', 'b.txt', 'c', 'd.sh', 'e.js'), fc.constantFrom(...groups))
    .map(([f, g]): Case => {
      const form = new FormData();
      form.append('group', g);
      form.append('file', new Blob(['data']), f);
      return {
        label: `file ${f}`,
        path: '/v1/files',
        init: { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form },
        mustRefuse: true,
      };
    });
  const missingIds = fc.oneof(
    fc
      .stringMatching(/^[A-Za-z0-9_]{1,30}$/)
      .map(
        (id): Case => ({ label: 'message id', path: `/v1/messages/${id}`, init: get(), mustRefuse: true }),
      ),
    fc
      .integer({ min: 100_000, max: 2 ** 40 })
      .map((id): Case => ({ label: 'task id', path: `/v1/tasks/${id}`, init: get(), mustRefuse: true })),
    fc.array(fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/), { minLength: 1, maxLength: 5 }).map(
      (ids): Case => ({
        label: 'redrive unknown ids',
        path: '/v1/deliveries/redrive',
        init: post({ ids }),
        mustRefuse: false,
      }),
    ),
  );
  const filters = fc
    .record({
      state: fc.option(fc.constantFrom('open', 'in_progress', 'done', 'cancelled'), { nil: undefined }),
      assignee: fc.option(fc.oneof(fc.constantFrom(...people), name), { nil: undefined }),
      group: fc.option(fc.oneof(fc.constantFrom(...groups), alias), { nil: undefined }),
      overdue: fc.option(fc.constantFrom('true', 'false'), { nil: undefined }),
    })
    .map((q): Case => {
      const qs = new URLSearchParams(
        Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined),
      );
      return { label: `filter ${qs}`, path: `/v1/tasks?${qs}`, init: get(), mustRefuse: false };
    });
  return fc.oneof(
    unknownGroup,
    unknownPerson,
    missingVar,
    anySend,
    badAssignee,
    taskMove,
    taskEdit,
    badFile,
    missingIds,
    filters,
  );
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the API over the real hub (${backend.name})`, () => {
    beforeAll(async () => {
      fx = await startTestHub(backend);
      ({ app, token } = await hubApi(fx.hub));
      groups = Object.keys(fx.hub.config.groups);
      people = (await fx.hub.listPeople()).map((p) => p.name);
      const res = await app.request('/v1/tasks', post({ title: 'seed', assignees: [people[0]!] }));
      taskId = ((await res.json()) as { id: number }).id;
      const edit = await app.request('/v1/tasks', post({ title: 'edit me', assignees: people.slice(0, 3) }));
      editId = ((await edit.json()) as { id: number }).id;
    }, 60_000);

    afterAll(async () => {
      await fx?.cleanup();
    });

    it('refuses well-formed but wrong requests with a 4xx and a reason; nothing answers 5xx (400 runs)', async () => {
      const seen = new Map<number, number>();
      const edits = new Set<number>();
      await fc.assert(
        fc.asyncProperty(cases(), async (c) => {
          const res = await app.request(c.path, c.init);
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          if (c.label.startsWith('edit ')) edits.add(res.status);
          const text = await res.text();
          if (res.status >= 500) throw new Error(`${c.label}: ${res.status} ${text.slice(0, 200)}`);
          if (c.mustRefuse && res.status < 400) throw new Error(`${c.label}: accepted with ${res.status}`);
          if (res.status >= 400) {
            const body = JSON.parse(text) as { error: { code: string; message: string } };
            if (!body.error.code || !body.error.message) throw new Error(`${c.label}: no reason`);
          }
        }),
        { numRuns: 400, seed: 4242 },
      );
      expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
      expect([...seen.keys()].some((s) => s < 300)).toBe(true);
      // The edits reached every outcome: applied, bad input, unknown task (and a closed task, once a move closed it).
      expect([...edits].sort()).toEqual(expect.arrayContaining([200, 400, 404]));
      expect((await app.request('/v1/health')).status).toBe(200);
    }, 120_000);

    it('serves the hub through the API: a send shows up on the SSE feed and in the delivery list', async () => {
      const res = await app.request(
        '/v1/messages',
        post({ group: groups[0]!, text: 'through the API' }, { 'idempotency-key': 'api-hub-1' }),
      );
      expect(res.status).toBe(202);
      const sent = (await res.json()) as { messageId: string };
      const again = await app.request(
        '/v1/messages',
        post({ group: groups[0]!, text: 'through the API' }, { 'idempotency-key': 'api-hub-1' }),
      );
      expect((await again.json()) as { messageId: string; duplicate: boolean }).toMatchObject({
        messageId: sent.messageId,
        duplicate: true,
      });
      const recent = (await (await app.request('/v1/events/recent?limit=1000', get())).json()) as {
        events: Array<{ type: string; data: Record<string, unknown> }>;
      };
      expect(
        recent.events.some((e) => e.type === 'message.queued' && e.data['messageId'] === sent.messageId),
      ).toBe(true);
      const list = (await (await app.request('/v1/deliveries?limit=1000', get())).json()) as {
        deliveries: Array<{ id: string }>;
      };
      const got = (await (await app.request(`/v1/messages/${sent.messageId}`, get())).json()) as {
        deliveries: Array<{ id: string }>;
      };
      for (const d of got.deliveries) expect(list.deliveries.map((x) => x.id)).toContain(d.id);
      const metrics = await (await app.request('/metrics', get())).text();
      expect(metrics).toContain('dingkit_http_requests_total');
    }, 60_000);
  });
}

/**
 * The people's web app end to end, in process: a real hub (SQLite, and PostgreSQL when it answers) against the real emulator, its HTTP app
 * reached with `app.request`. Every sign-in uses a code the emulator issued (`POST /_emulator/users/{id}/auth-code`,
 * here `emu.authCode`) or its login page; nothing takes a userId from the "browser". Each defence is attacked the
 * way an attacker would: a spent or expired code, a foreign `state`, a tampered or expired cookie, a missing or
 * wrong CSRF token, a foreign Origin, a forged action, a peek at another person's task; and each time the task is
 * read back to show nothing changed.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { csrfOf } from '../../src/server/people/session.js';
import { backends } from '../conformance/backends.js';
import {
  ENG,
  type HubApi,
  type HubFixture,
  hubApi,
  startTestHub,
  testConfig,
  waitFor,
} from '../e2e/hub-helpers.js';

const PUBLIC = 'https://hub.example.test';
const appConfig = () =>
  testConfig({
    publicUrl: PUBLIC,
    tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0, access: { admins: ['alice'] } },
  });

interface Call {
  cookie?: string | undefined;
  csrf?: string | undefined;
  origin?: string | null | undefined;
  body?: unknown;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`people's web app (${backend.name})`, () => {
    let f: HubFixture;
    let api: HubApi;
    let skewMs = 0;

    beforeAll(async () => {
      f = await startTestHub(backend, {
        // Alice is an admin: she gets the operator role (a link to the dashboard) in the app.
        config: appConfig(),
        // The emulator's clock runs ahead on demand: a code then outlives its 5 minutes (docs/dingtalk.md §13.2).
        emulator: { now: () => Date.now() + skewMs },
      });
      api = await hubApi(f.hub);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    const req = (method: string, path: string, o: Call = {}) =>
      api.app.request(`http://127.0.0.1${path}`, {
        method,
        headers: {
          ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(o.cookie ? { cookie: o.cookie } : {}),
          ...(o.csrf ? { 'x-csrf-token': o.csrf } : {}),
          ...(o.origin === null ? {} : { origin: o.origin ?? (method === 'GET' ? undefined : PUBLIC) }),
        } as Record<string, string>,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      });

    /** Signs a person in as the page does inside DingTalk: a real 免登 code posted to the hub. */
    async function signIn(userId: string) {
      const code = f.hub.emulator!.authCode(userId);
      const r = await req('POST', '/app/session/dingtalk', { body: { code } });
      expect(r.status).toBe(200);
      const set = r.headers.get('set-cookie') ?? '';
      const id = /dk_app_session=([^;]+)/.exec(set)?.[1];
      expect(id).toBeDefined();
      const body = (await r.json()) as { csrf: string; name: string };
      return { cookie: `dk_app_session=${id}`, csrf: body.csrf, id: id!, set, name: body.name };
    }

    const state = async (id: number) => (await f.hub.getTask(id))!.state;

    it('an operator opens the dashboard from the app: a short admin token for the session, refused to others, revoked at sign-out', async () => {
      const alice = await signIn('alice');
      const me = (await (await req('GET', '/app/api/me', { cookie: alice.cookie })).json()) as {
        operator: boolean;
        dashboard?: string;
      };
      expect(me).toMatchObject({ operator: true, dashboard: '/' });
      // The attack first: no CSRF token, another site's Origin.
      expect((await req('POST', '/app/api/operator-token', { cookie: alice.cookie })).status).toBe(403);
      expect(
        (
          await req('POST', '/app/api/operator-token', {
            cookie: alice.cookie,
            csrf: alice.csrf,
            origin: 'https://evil.example',
          })
        ).status,
      ).toBe(403);
      const r = await req('POST', '/app/api/operator-token', { cookie: alice.cookie, csrf: alice.csrf });
      expect(r.status).toBe(201);
      const { token, expiresAt } = (await r.json()) as { token: string; expiresAt: string };
      // An hour at most.
      expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(3_600_000);
      const bearer = (path: string) =>
        api.app.request(path, { headers: { authorization: `Bearer ${token}` } });
      expect((await bearer('/v1/tasks')).status).toBe(200);
      // A second ask replaces the first token: one per session.
      const again = (await (
        await req('POST', '/app/api/operator-token', { cookie: alice.cookie, csrf: alice.csrf })
      ).json()) as { token: string };
      expect((await bearer('/v1/tasks')).status).toBe(401);
      const bearer2 = (path: string) =>
        api.app.request(path, { headers: { authorization: `Bearer ${again.token}` } });
      expect((await bearer2('/v1/tasks')).status).toBe(200);
      // Signing out of the app ends the dashboard's token too.
      expect(
        (await req('POST', '/app/session/signout', { cookie: alice.cookie, csrf: alice.csrf })).status,
      ).toBeLessThan(300);
      expect((await bearer2('/v1/tasks')).status).toBe(401);
      // Someone who is not an operator gets none.
      const lisi = await signIn('lisi');
      expect(
        (await req('POST', '/app/api/operator-token', { cookie: lisi.cookie, csrf: lisi.csrf })).status,
      ).toBe(403);
      // 张三 is the org's main administrator by DingTalk's word (sys_level 1), which counts only when the config
      // says so (peopleApp.dingtalkAdmins): here it does not.
      const zhang = await signIn('zhangsan');
      expect(
        ((await (await req('GET', '/app/api/me', { cookie: zhang.cookie })).json()) as { operator: boolean })
          .operator,
      ).toBe(false);
    });

    it('免登 code → session → my tasks → done through the page API: the task moves and the group hears of it', async () => {
      const task = await f.hub.assignTask(
        {
          title: 'Check the backups',
          assignees: ['lisi'],
          group: 'engineering',
          due: new Date(Date.now() + 3_600_000).toISOString(),
        },
        { by: 'tester' },
      );
      const s = await signIn('lisi');
      expect(s.name).toBe('李四');
      // The cookie: HttpOnly, Lax, scoped to /app, Secure because the public URL is https, with an expiry.
      expect(s.set).toMatch(/HttpOnly/);
      expect(s.set).toMatch(/SameSite=Lax/);
      expect(s.set).toMatch(/Path=\/app(;|$)/);
      expect(s.set).toMatch(/Secure/);
      expect(s.set).toMatch(/Max-Age=\d+/);
      // The store holds the hash of the id, never the id.
      const rows = await f.store.db.selectFrom('app_sessions').selectAll().execute();
      expect(rows.some((r) => r.id_hash === s.id)).toBe(false);
      expect(rows.some((r) => r.person === 'lisi')).toBe(true);

      const me = (await (await req('GET', '/app/api/me', { cookie: s.cookie })).json()) as {
        csrf: string;
        operator: boolean;
      };
      expect(me.csrf).toBe(s.csrf);
      expect(me.operator).toBe(false);

      const list = (await (await req('GET', '/app/api/tasks', { cookie: s.cookie })).json()) as {
        tasks: Array<{ id: number }>;
      };
      expect(list.tasks.map((t) => t.id)).toContain(task.id);

      const view = (await (await req('GET', `/app/api/tasks/${task.id}`, { cookie: s.cookie })).json()) as {
        actions: string[];
        canEdit: boolean;
      };
      expect(view.actions).toEqual(['start', 'done', 'cancel']);
      expect(view.canEdit).toBe(false); // an assignee finishes work; editing is the creator's

      const done = await req('POST', `/app/api/tasks/${task.id}/done`, { cookie: s.cookie, csrf: s.csrf });
      expect(done.status).toBe(200);
      const after = (await done.json()) as {
        task: { state: string; history: Array<{ kind: string; by: string }> };
        actions: string[];
      };
      expect(after.task.state).toBe('done');
      expect(after.task.history.at(-1)).toMatchObject({ kind: 'done', by: 'app:李四' });
      expect(after.actions).toEqual([]); // reopen stays with the creator, admins and leads
      const announced = await waitFor(() =>
        f.hub.emulator!.messages(ENG).find((m) => m.text.includes(`Task #${task.id} finished`)),
      );
      // Named as the person (the history keeps `app:李四`, where it came from).
      expect(announced.text).toContain(`finished by 李四: Check the backups`);
      // What went out for the task is on its page.
      const sent = await waitFor(async () => {
        const d = (await (await req('GET', `/app/api/tasks/${task.id}`, { cookie: s.cookie })).json()) as {
          deliveries: Array<{ channel: string; status: string }>;
        };
        return d.deliveries.filter((x) => x.status === 'sent').length >= 2 ? d.deliveries : undefined;
      });
      expect(sent.length).toBeGreaterThanOrEqual(2);
    });

    it('a spent code and an expired code are refused (401) and open no session', async () => {
      const code = f.hub.emulator!.authCode('wangwu');
      const first = await req('POST', '/app/session/dingtalk', { body: { code } });
      expect(first.status).toBe(200);
      const before = await f.store.db.selectFrom('app_sessions').selectAll().execute();
      const again = await req('POST', '/app/session/dingtalk', { body: { code } });
      expect(again.status).toBe(401);
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe('code_refused');
      expect(again.headers.get('set-cookie')).toBeNull();

      const old = f.hub.emulator!.authCode('wangwu');
      skewMs = 6 * 60_000;
      try {
        const late = await req('POST', '/app/session/dingtalk', { body: { code: old } });
        expect(late.status).toBe(401);
        expect(late.headers.get('set-cookie')).toBeNull();
      } finally {
        skewMs = 0;
      }
      expect(await f.store.db.selectFrom('app_sessions').selectAll().execute()).toHaveLength(before.length);
    });

    it('a userId from the browser is not read, and a sign-in from another site is refused', async () => {
      const forged = await req('POST', '/app/session/dingtalk', { body: { userId: 'zhangsan' } });
      expect(forged.status).toBe(400);
      const code = f.hub.emulator!.authCode('zhangsan');
      const foreign = await req('POST', '/app/session/dingtalk', {
        body: { code },
        origin: 'https://evil.example',
      });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('set-cookie')).toBeNull();
    });

    it('OAuth outside DingTalk: the state is bound to the browser; a mismatch is 400 and opens nothing', async () => {
      // Only the app's own pages may be where the person lands afterwards (no open redirect).
      for (const next of ['https://evil.example/', '//evil.example', '/v1/tasks', '/app/../v1']) {
        expect((await req('GET', `/app/login?next=${encodeURIComponent(next)}`)).status, next).toBe(400);
      }
      const start = await req('GET', `/app/login?next=${encodeURIComponent('/app/tasks/7')}`);
      expect(start.status).toBe(302);
      const loginCookie = /dk_app_login=([^;]+)/.exec(start.headers.get('set-cookie') ?? '')?.[1];
      expect(loginCookie).toBeDefined();
      const to = new URL(start.headers.get('location')!);
      expect(to.pathname).toBe('/oauth2/auth');
      expect(to.searchParams.get('redirect_uri')).toBe(`${PUBLIC}/app/login/callback`);
      expect(to.searchParams.get('state')).toBe(loginCookie!.split('.')[0]);
      // The emulator's login page: the person picks themselves, it redirects back with a code and the state.
      const choose = async () => {
        const form = new URLSearchParams(to.searchParams);
        form.set('userId', 'alice');
        const r = await fetch(`${to.origin}/oauth2/auth`, {
          method: 'POST',
          body: form,
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(r.status).toBe(302);
        const back = new URL(r.headers.get('location')!);
        return `${back.pathname}${back.search}`;
      };
      const sessions = async () => (await f.store.db.selectFrom('app_sessions').selectAll().execute()).length;
      const n = await sessions();

      // Another browser's state (or none at all) is refused before the code is spent.
      const stolen = await choose();
      for (const cookie of [undefined, 'dk_app_login=someone-elses-state', `dk_app_login=x${loginCookie}`]) {
        const r = await req('GET', stolen, { cookie });
        expect(r.status).toBe(400);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('state_mismatch');
        expect(r.headers.get('set-cookie') ?? '').not.toMatch(/dk_app_session=[^;]/);
      }
      expect(await sessions()).toBe(n);

      const ok = await req('GET', await choose(), { cookie: `dk_app_login=${loginCookie}` });
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe('/app/tasks/7');
      const id = /dk_app_session=([^;]+)/.exec(ok.headers.get('set-cookie') ?? '')?.[1];
      const me = (await (await req('GET', '/app/api/me', { cookie: `dk_app_session=${id}` })).json()) as {
        name: string;
        via: string;
      };
      expect(me).toMatchObject({ name: 'Alice Chen', via: 'oauth', operator: true, dashboard: '/' });
    });

    it('a tampered or expired session cookie is 401 with a reason, and changes nothing', async () => {
      const task = await f.hub.assignTask(
        { title: 'Rotate the keys', assignees: ['lisi'] },
        { by: 'tester' },
      );
      const s = await signIn('lisi');
      const flipped = s.id.slice(0, -1) + (s.id.endsWith('A') ? 'B' : 'A');
      for (const cookie of [
        `dk_app_session=${flipped}`,
        'dk_app_session=',
        'dk_app_session=../../x',
        'other=1',
      ]) {
        const r = await req('POST', `/app/api/tasks/${task.id}/done`, { cookie, csrf: csrfOf(flipped) });
        expect(r.status).toBe(401);
        expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/sign in/);
      }
      expect(await state(task.id)).toBe('open');

      await f.store.db
        .updateTable('app_sessions')
        .set({ expires_at: Date.now() - 1 })
        .where('person', '=', 'lisi')
        .execute();
      const expired = await req('POST', `/app/api/tasks/${task.id}/done`, { cookie: s.cookie, csrf: s.csrf });
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('session_expired');
      expect(expired.headers.get('set-cookie')).toMatch(/dk_app_session=;.*Max-Age=0/);
      expect(await state(task.id)).toBe('open');
    });

    it('sessions live in the store: another hub process on the same database (or a restarted one) knows them', async () => {
      const s = await signIn('lisi');
      const store2 = await f.reopen();
      const hub2 = await launchHub({
        // Alice is an admin: she gets the operator role (a link to the dashboard) in the app.
        config: appConfig(),
        store: store2,
        receive: false,
      });
      try {
        const other = await hubApi(hub2);
        const me = await other.app.request('http://127.0.0.1/app/api/me', { headers: { cookie: s.cookie } });
        expect(me.status).toBe(200);
        expect(((await me.json()) as { name: string }).name).toBe('李四');
        // And a sign-out there ends it here.
        const out = await other.app.request('http://127.0.0.1/app/session/signout', {
          method: 'POST',
          headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: PUBLIC },
        });
        expect(out.status).toBe(200);
        expect((await req('GET', '/app/api/me', { cookie: s.cookie })).status).toBe(401);
      } finally {
        await hub2.stop();
        await store2.close();
      }
    });

    it('signing in again in the same browser ends the session it held before', async () => {
      const first = await signIn('wangwu');
      const code = f.hub.emulator!.authCode('wangwu');
      const again = await req('POST', '/app/session/dingtalk', { body: { code }, cookie: first.cookie });
      expect(again.status).toBe(200);
      expect((await req('GET', '/app/api/me', { cookie: first.cookie })).status).toBe(401);
      const id = /dk_app_session=([^;]+)/.exec(again.headers.get('set-cookie') ?? '')?.[1];
      expect((await req('GET', '/app/api/me', { cookie: `dk_app_session=${id}` })).status).toBe(200);
    });

    it('sign-out ends the session in the store: the same cookie is then 401', async () => {
      const s = await signIn('wangwu');
      expect((await req('GET', '/app/api/me', { cookie: s.cookie })).status).toBe(200);
      // Without the CSRF token another site could sign people out: refused.
      expect((await req('POST', '/app/session/signout', { cookie: s.cookie })).status).toBe(403);
      expect((await req('GET', '/app/api/me', { cookie: s.cookie })).status).toBe(200);
      const out = await req('POST', '/app/session/signout', { cookie: s.cookie, csrf: s.csrf });
      expect(out.status).toBe(200);
      expect(out.headers.get('set-cookie')).toMatch(/dk_app_session=;.*Max-Age=0/);
      expect((await req('GET', '/app/api/me', { cookie: s.cookie })).status).toBe(401);
    });

    it('a missing or wrong CSRF token, and a foreign or missing Origin, are 403 and change nothing', async () => {
      const task = await f.hub.assignTask({ title: 'Renew the cert', assignees: ['lisi'] }, { by: 'tester' });
      const s = await signIn('lisi');
      const other = await signIn('zhangsan');
      const attempts: Array<[Call, string]> = [
        [{ cookie: s.cookie }, 'csrf_missing'],
        [{ cookie: s.cookie, csrf: 'x'.repeat(43) }, 'csrf_mismatch'],
        [{ cookie: s.cookie, csrf: other.csrf }, 'csrf_mismatch'], // another session's token
        [{ cookie: s.cookie, csrf: s.csrf, origin: 'https://evil.example' }, 'foreign_origin'],
        [{ cookie: s.cookie, csrf: s.csrf, origin: null }, 'origin_required'],
      ];
      for (const [call, code] of attempts) {
        const r = await req('POST', `/app/api/tasks/${task.id}/done`, call);
        expect(r.status, code).toBe(403);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
      }
      expect(await state(task.id)).toBe('open');
      // The twin: the same request with the right token and origin goes through.
      const ok = await req('POST', `/app/api/tasks/${task.id}/start`, { cookie: s.cookie, csrf: s.csrf });
      expect(ok.status).toBe(200);
      expect(await state(task.id)).toBe('in_progress');
    });

    it('the access rule decides: an outsider cannot read the task (404) and a forged action is refused', async () => {
      const task = await f.hub.assignTask(
        { title: 'Private work', assignees: ['zhangsan'], group: 'engineering' },
        { by: 'tester' },
      );
      const outsider = await signIn('wangwu');
      expect((await req('GET', `/app/api/tasks/${task.id}`, { cookie: outsider.cookie })).status).toBe(404);
      const list = (await (await req('GET', '/app/api/tasks', { cookie: outsider.cookie })).json()) as {
        tasks: Array<{ id: number }>;
      };
      expect(list.tasks.map((t) => t.id)).not.toContain(task.id);
      const forged = await req('POST', `/app/api/tasks/${task.id}/done`, {
        cookie: outsider.cookie,
        csrf: outsider.csrf,
      });
      expect(forged.status).toBe(404);
      expect(await state(task.id)).toBe('open');

      // The assignee finishes it, then tries what the rule keeps for the creator: no button, and a forged call is 403.
      const owner = await signIn('zhangsan');
      await req('POST', `/app/api/tasks/${task.id}/done`, { cookie: owner.cookie, csrf: owner.csrf });
      const view = (await (
        await req('GET', `/app/api/tasks/${task.id}`, { cookie: owner.cookie })
      ).json()) as { actions: string[] };
      expect(view.actions).not.toContain('reopen');
      const reopen = await req('POST', `/app/api/tasks/${task.id}/reopen`, {
        cookie: owner.cookie,
        csrf: owner.csrf,
      });
      expect(reopen.status).toBe(403);
      const edit = await req('PATCH', `/app/api/tasks/${task.id}`, {
        cookie: owner.cookie,
        csrf: owner.csrf,
        body: { title: 'mine now' },
      });
      expect(edit.status).toBe(403); // the rule answers before the state: editing is not the assignee's
      expect(await state(task.id)).toBe('done');
    });

    it('assign from the page: the creator may edit, an assignee may not', async () => {
      const creator = await signIn('alice');
      const made = await req('POST', '/app/api/tasks', {
        cookie: creator.cookie,
        csrf: creator.csrf,
        body: {
          title: 'Write the runbook',
          assignees: ['Bob Li'],
          group: 'engineering',
          idempotencyKey: 'k1',
        },
      });
      expect(made.status).toBe(201);
      const m = (await made.json()) as { task: { id: number }; canEdit: boolean; actions: string[] };
      expect(m.canEdit).toBe(true);
      expect(m.actions).toEqual(['start', 'done', 'cancel']);
      // The creator's list has it although she is not an assignee.
      const hers = (await (await req('GET', '/app/api/tasks', { cookie: creator.cookie })).json()) as {
        tasks: Array<{ id: number }>;
      };
      expect(hers.tasks.map((t) => t.id)).toContain(m.task.id);
      const bob = await signIn('bob');
      const seen = (await (
        await req('GET', `/app/api/tasks/${m.task.id}`, { cookie: bob.cookie })
      ).json()) as { canEdit: boolean };
      expect(seen.canEdit).toBe(false);
      const refused = await req('PATCH', `/app/api/tasks/${m.task.id}`, {
        cookie: bob.cookie,
        csrf: bob.csrf,
        body: { title: 'bob was here' },
      });
      expect(refused.status).toBe(403);
      const edited = await req('PATCH', `/app/api/tasks/${m.task.id}`, {
        cookie: creator.cookie,
        csrf: creator.csrf,
        body: { title: 'Write the runbook v2' },
      });
      expect(edited.status).toBe(200);
      expect((await f.hub.getTask(m.task.id))!.title).toBe('Write the runbook v2');
      // The page may not move assignees or groups (the API and the chat do that).
      const wide = await req('PATCH', `/app/api/tasks/${m.task.id}`, {
        cookie: creator.cookie,
        csrf: creator.csrf,
        body: { addAssignees: ['lisi'] },
      });
      expect(wide.status).toBe(400);
    });

    it('the live stream carries only changes of tasks the person may see', async () => {
      const mine = await f.hub.assignTask({ title: 'Live mine', assignees: ['lisi'] }, { by: 'tester' });
      const theirs = await f.hub.assignTask(
        { title: 'Live theirs', assignees: ['zhangsan'] },
        { by: 'tester' },
      );
      const s = await signIn('lisi');
      const res = await req('GET', '/app/api/events', { cookie: s.cookie });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let got = '';
      await f.hub.actOnTask(theirs.id, 'start', { by: 'tester' });
      await f.hub.actOnTask(mine.id, 'start', { by: 'tester' });
      const dec = new TextDecoder();
      while (!got.includes(`"id":${mine.id}`)) {
        const { value, done } = await reader.read();
        if (done) break;
        got += dec.decode(value);
      }
      await reader.cancel();
      expect(got).toContain(`"id":${mine.id}`);
      expect(got).not.toContain(`"id":${theirs.id}`);
      expect(got).not.toContain('event: delivery');
    });

    it('without a session the API is 401 and the page shell carries no data; the page CSP allows DingTalk framing only', async () => {
      expect((await req('GET', '/app/api/tasks')).status).toBe(401);
      const page = await req('GET', '/app/tasks/1', { origin: null });
      expect(page.status).toBe(200);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/frame-ancestors 'self' https:\/\/\*\.dingtalk\.com/);
      expect(csp).not.toMatch(/unsafe-inline/);
      // The operator dashboard keeps refusing every frame.
      const dash = await req('GET', '/', { origin: null });
      expect(dash.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    });
  });
}

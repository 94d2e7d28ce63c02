/**
 * The people's web app under `/app`: the pages DingTalk opens from the workbench and from Todos, their sign-in and
 * their JSON API. Everything here acts for one person, found from DingTalk's verified ids (src/hub/people-app.ts),
 * and every task read or change goes through the task-access rule (src/hub/tasks/access.ts) — the same rule the chat
 * commands obey. Operators keep the token API under `/v1` and the dashboard at `/`.
 *
 * | route                                  | what                                                                 |
 * | -------------------------------------- | -------------------------------------------------------------------- |
 * | `GET /app`, `/app/tasks/:id`, `/app/new` | the page (one shell; its script picks the view)                      |
 * | `POST /app/session/dingtalk`           | `{code}`: a 免登 code → a session (docs/dingtalk.md §13.2)            |
 * | `GET /app/login`, `/app/login/callback` | DingTalk's browser login with a `state` bound to this browser (§13.3) |
 * | `POST /app/session/signout`            | ends the session                                                     |
 * | `GET /app/api/me`                      | who is signed in, and the CSRF token for changes                     |
 * | `GET /app/api/tasks`, `/app/api/tasks/:id` | my tasks (assigned to or created by me); one task with the actions I may take and what went out   |
 * | `POST /app/api/tasks/:id/:action`, `PATCH /app/api/tasks/:id`, `POST /app/api/tasks` | changes |
 * | `GET /app/api/directory`               | names and groups to assign to                                        |
 * | `GET /app/api/events`                  | live changes of the tasks I may see (SSE)                            |
 *
 * A task the person may not view answers 404, exactly like one that does not exist; a task they may view but not
 * change this way answers 403 `not_permitted`.
 */

import { createHash, randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { readLoginCallback } from '../../api/auth/auth.js';
import { isDingTalkError } from '../../core/errors.js';
import type { AppSession, HubService, PeopleAppService, Task } from '../../hub/service.js';
import { isTaskAccessError } from '../../hub/tasks/access.js';
import type { EventBus } from '../../observe/events.js';
import { ApiError } from '../api-error.js';
import { type ApiTokenStore, createApiToken } from '../api-tokens.js';
import { createTaskBody, taskActionSchema, taskIdParam, updateTaskBody } from '../contracts.js';
import { readJson, readOptionalJson, readParam, readQuery } from '../http-input.js';
import type { SseOptions, SseStreams } from '../sse.js';
import { jsapiBundle } from './jsapi.js';
import { appCsp, appHtml, pickLanguage } from './page.js';
import {
  checkOrigin,
  cookie,
  csrfOf,
  isHttps,
  LOGIN_COOKIE,
  type PeopleEnv,
  readCookie,
  requireSession,
  SESSION_COOKIE,
  sameSecret,
} from './session.js';

export interface PeopleRoutesDeps {
  hub: HubService;
  app: PeopleAppService;
  events: EventBus;
  streams: SseStreams;
  sse: SseOptions;
  /** Where an operator's short-lived dashboard token is kept (`POST /app/api/operator-token`); absent: none given. */
  operatorTokens?: ApiTokenStore | undefined;
}

/** How long a token handed to an operator's dashboard lives at most (never past the session). */
const OPERATOR_TOKEN_MS = 3_600_000;

/** The name of a session's dashboard token: one per session, revoked when the session signs out or asks again. */
const operatorTokenName = (sessionId: string) =>
  `app-session.${createHash('sha256').update(`dingkit operator\0${sessionId}`, 'utf8').digest('hex').slice(0, 16)}`;

type Action = 'start' | 'done' | 'cancel' | 'reopen';
const ACTIONS: readonly Action[] = ['start', 'done', 'cancel', 'reopen'];
const FROM: Record<Action, readonly Task['state'][]> = {
  start: ['open'],
  done: ['open', 'in_progress'],
  cancel: ['open', 'in_progress'],
  reopen: ['done', 'cancelled'],
};
const LOGIN_STATE_S = 600;

const codeBody = z.object({ code: z.string().min(1).max(512) }).strict();
/** The page edits what the creator wrote; assignees and group stay with the API and the chat. */
const editBody = updateTaskBody.refine(
  (b) => b.group === undefined && b.addAssignees === undefined && b.removeAssignees === undefined,
  { message: 'the page edits title, description and due only' },
);
/** The app's own pages: `/app`, `/app/`, `/app/new`, `/app/tasks/<id>`. */
const APP_PAGE = /^\/app(\/|\/new|\/tasks\/[0-9]{1,15})?$/;
const loginQuery = z.object({ next: z.string().regex(APP_PAGE).optional() }).strict();
const directoryQuery = z.object({ q: z.string().max(100).optional() }).strict();

/** How the person is named in task history: `app:<name>`, like `api:<token>` for API callers. */
const byOf = (s: AppSession) => `app:${s.person.name}`;
const actorOf = (s: AppSession) => ({
  by: byOf(s),
  person: { key: s.person.key },
  idempotencyScope: `person:${s.person.userId ?? s.person.key}`,
});

export function peopleAppRoutes(r: Hono<PeopleEnv>, d: PeopleRoutesDeps): void {
  const { hub, app } = d;
  const secure = () => isHttps(app.publicUrl());
  const session = requireSession(app);

  // The page: one shell, no data in it. Its script asks /app/api/me and signs in when needed.
  const page = (c: Context) =>
    c.html(appHtml(pickLanguage(c.req.header('accept-language'))), 200, {
      'content-security-policy': appCsp(app.clientInfo().emulatorOrigin),
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
  r.get('/app', page);
  r.get('/app/', page);
  r.get('/app/new', page);
  r.get('/app/tasks/:id{[0-9]{1,15}}', page);

  r.get('/app/assets/dingtalk-jsapi.js', async (c) =>
    c.body(await jsapiBundle(), 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    }),
  );

  // What the page needs to ask DingTalk for a 免登 code (§13.2): the corpId and the app's key, neither a secret.
  r.get('/app/api/client', (c) => {
    const info = app.clientInfo();
    return c.json({
      corpId: info.corpId ?? null,
      clientId: info.clientId ?? null,
      emulatorOrigin: info.emulatorOrigin ?? null,
    });
  });

  /** Sets the new session's cookie; a session this browser held before is ended (one sign-in, one session). */
  const opened = async (c: Context, s: { id: string; expiresAt: number }) => {
    const old = readCookie(c.req.header('cookie'), SESSION_COOKIE);
    if (old) await app.closeSession(old);
    c.header(
      'set-cookie',
      cookie(SESSION_COOKIE, s.id, {
        path: '/app',
        maxAgeS: (s.expiresAt - Date.now()) / 1000,
        secure: secure(),
        sameSite: app.cookieSameSite(),
      }),
    );
  };

  r.post('/app/session/dingtalk', async (c) => {
    checkOrigin(c, app);
    const { code } = await readJson(c, codeBody);
    const person = await signIn(() => app.personByAuthCode(code));
    const s = await app.openSession(person, 'dingtalk');
    await opened(c, s);
    return c.json({ name: person.name, operator: person.operator, csrf: csrfOf(s.id) });
  });

  r.get('/app/login', (c) => {
    const state = randomBytes(24).toString('base64url');
    // Where to land afterwards: one of the app's own pages, nothing else (no open redirect).
    const next = readQuery(c, loginQuery).next ?? '/app/';
    const redirectUri = `${app.publicUrl()}/app/login/callback`;
    const url = app.loginUrl(redirectUri, state);
    c.header(
      'set-cookie',
      cookie(LOGIN_COOKIE, `${state}.${Buffer.from(next).toString('base64url')}`, {
        path: '/app/login',
        maxAgeS: LOGIN_STATE_S,
        secure: secure(),
      }),
    );
    return c.redirect(url, 302);
  });

  r.get('/app/login/callback', async (c) => {
    let cb: { code: string; state: string };
    try {
      cb = readLoginCallback(new URL(c.req.url).searchParams);
    } catch {
      throw new ApiError(400, 'invalid_callback', 'the sign-in answer has no code or no state');
    }
    const [expected, nextRaw] = (readCookie(c.req.header('cookie'), LOGIN_COOKIE) ?? '').split('.');
    // The state is spent whatever happens next.
    c.header('set-cookie', cookie(LOGIN_COOKIE, '', { path: '/app/login', maxAgeS: 0, secure: secure() }));
    if (expected === undefined || expected === '' || !sameSecret(cb.state, expected)) {
      throw new ApiError(400, 'state_mismatch', 'this sign-in was not started in this browser; start again');
    }
    const person = await signIn(() => app.personByLoginCode(cb.code));
    const s = await app.openSession(person, 'oauth');
    await opened(c, s);
    const next = Buffer.from(nextRaw ?? '', 'base64url').toString('utf8');
    return c.redirect(APP_PAGE.test(next) ? next : '/app/', 303);
  });

  r.post('/app/session/signout', session, async (c) => {
    await app.closeSession(c.get('sessionId'));
    await d.operatorTokens?.revoke(operatorTokenName(c.get('sessionId')), new Date().toISOString());
    c.header(
      'set-cookie',
      cookie(SESSION_COOKIE, '', {
        path: '/app',
        maxAgeS: 0,
        secure: secure(),
        sameSite: app.cookieSameSite(),
      }),
    );
    return c.json({ ok: true });
  });

  r.get('/app/api/me', session, (c) => {
    const s = c.get('session');
    return c.json({
      name: s.person.name,
      operator: s.person.operator,
      via: s.via,
      expiresAt: new Date(s.expiresAt).toISOString(),
      csrf: csrfOf(c.get('sessionId')),
      ...(s.person.operator ? { dashboard: '/' } : {}),
    });
  });

  // An operator signed in here opens the operator dashboard without pasting an API token: the dashboard asks for a
  // short-lived one (admin scope, an hour at most, never past the session, revoked at sign-out), with the session's
  // cookie and CSRF token, as any change here. Anyone else is refused.
  r.post('/app/api/operator-token', session, async (c) => {
    const s = c.get('session');
    if (!s.person.operator) throw new ApiError(403, 'forbidden', 'only operators open the operator views');
    const store = d.operatorTokens;
    if (!store) throw new ApiError(404, 'not_found', 'this hub hands no dashboard tokens to the app');
    const name = operatorTokenName(c.get('sessionId'));
    await store.revoke(name, new Date().toISOString());
    const life = Math.max(1_000, Math.min(OPERATOR_TOKEN_MS, s.expiresAt - Date.now()));
    const { token, record } = await createApiToken(store, name, ['admin'], { expiresInMs: life });
    return c.json({ token, expiresAt: record.expiresAt }, 201);
  });

  r.get('/app/api/tasks', session, async (c) => {
    const s = c.get('session');
    // Mine: assigned to me, or created by me.
    const mine = new Map((await hub.listTasks({ assignee: s.person.key, limit: 500 })).map((t) => [t.id, t]));
    for (const id of await app.createdTaskIds(s.person.key, 200)) {
      if (!mine.has(id)) {
        const t = await hub.getTask(id);
        if (t) mine.set(id, t);
      }
    }
    const visible: Task[] = [];
    for (const t of mine.values()) if (await app.may(t.id, s.person.key, 'view')) visible.push(t);
    visible.sort(byDue);
    return c.json({ tasks: visible.map(summary) });
  });

  r.get('/app/api/tasks/:id', session, async (c) => {
    const s = c.get('session');
    const task = await visibleTask(c.req.param('id'), s);
    return c.json(await detail(task, s));
  });

  r.post('/app/api/tasks/:id/:action', session, async (c) => {
    const s = c.get('session');
    const task = await visibleTask(c.req.param('id'), s);
    const action = taskActionSchema.safeParse(c.req.param('action'));
    if (!action.success) throw new ApiError(404, 'not_found', 'task actions are start, done, cancel, reopen');
    const body = await readOptionalJson(c, z.object({ note: z.string().max(1_000).optional() }).strict());
    try {
      const changed = await hub.actOnTask(task.id, action.data, actorOf(s), body.note);
      return c.json(await detail(changed, s));
    } catch (e) {
      throw refused(e);
    }
  });

  r.patch('/app/api/tasks/:id', session, async (c) => {
    const s = c.get('session');
    const task = await visibleTask(c.req.param('id'), s);
    const body = await readJson(c, editBody);
    try {
      const changed = await hub.updateTask(task.id, body, actorOf(s));
      return c.json(await detail(changed, s));
    } catch (e) {
      throw refused(e);
    }
  });

  r.post('/app/api/tasks', session, async (c) => {
    const s = c.get('session');
    const body = await readJson(c, createTaskBody);
    const task = await hub.assignTask(body, actorOf(s));
    return c.json(await detail(task, s), 201);
  });

  r.get('/app/api/directory', session, async (c) => {
    const q = (readQuery(c, directoryQuery).q ?? '').trim().toLowerCase();
    const people = (await hub.listPeople())
      .map((p) => p.name)
      .filter((n) => q === '' || n.toLowerCase().includes(q))
      .slice(0, 50);
    return c.json({ people, groups: app.groups() });
  });

  r.get('/app/api/events', session, (c) => {
    const s = c.get('session');
    const id = c.get('sessionId');
    return d.streams.open(
      d.events,
      undefined,
      d.sse,
      async () => (await app.readSession(id)) !== undefined,
      // Only changes of tasks this person may see; nothing of deliveries, messages or other people's work.
      async (e) => {
        if (!e.type.startsWith('task.')) return false;
        const taskId = (e.data as { id?: unknown }).id;
        return typeof taskId === 'number' && (await app.may(taskId, s.person.key, 'view'));
      },
    );
  });

  async function visibleTask(raw: string | undefined, s: AppSession): Promise<Task> {
    const id = readParam(raw, taskIdParam, 'the task id');
    const task = (await app.may(id, s.person.key, 'view')) ? await hub.getTask(id) : undefined;
    if (!task) throw new ApiError(404, 'not_found', `no task #${id}, or not yours to see`);
    return task;
  }

  async function detail(task: Task, s: AppSession) {
    const actions: Action[] = [];
    for (const a of ACTIONS) {
      if (FROM[a].includes(task.state) && (await app.may(task.id, s.person.key, a))) actions.push(a);
    }
    const open = task.state === 'open' || task.state === 'in_progress';
    const canEdit = open && (await app.may(task.id, s.person.key, 'edit'));
    const deliveries = (await app.taskDeliveries(task.id)).map((x) => ({
      channel: x.channel,
      target: x.target,
      status: x.status,
      attempts: x.attempts,
      updatedAt: x.updatedAt,
      ...(x.part ? { part: x.part } : {}),
    }));
    return { task, actions, canEdit, deliveries };
  }
}

async function signIn<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isDingTalkError(e) && e.code === 'AUTH_CODE_INVALID') {
      throw new ApiError(
        401,
        'code_refused',
        'DingTalk refused this sign-in code (used or expired); try again',
      );
    }
    if (isDingTalkError(e) && e.code === 'SIGN_IN') {
      throw new ApiError(403, (e as { reason?: string }).reason ?? 'sign_in_refused', e.message);
    }
    throw e;
  }
}

/** A refusal of the access rule on a task the person can see is a 403; a move the state forbids a 409. */
function refused(e: unknown): unknown {
  if (isTaskAccessError(e)) return new ApiError(403, 'not_permitted', 'you may not do this to this task');
  if (isDingTalkError(e) && e.code === 'VALIDATION' && (e as { field?: string }).field === 'state') {
    return new ApiError(409, 'invalid_transition', e.message);
  }
  return e;
}

function summary(t: Task) {
  return {
    id: t.id,
    title: t.title,
    state: t.state,
    due: t.due,
    priority: t.priority,
    group: t.group,
    assignees: t.assignees.map((a) => a.name),
  };
}

/** Due soonest first; tasks without a due time after those with one; then the older task first. */
function byDue(a: Task, b: Task): number {
  const da = a.due === undefined ? Number.POSITIVE_INFINITY : Date.parse(a.due);
  const db = b.due === undefined ? Number.POSITIVE_INFINITY : Date.parse(b.due);
  return da === db ? a.id - b.id : da < db ? -1 : 1;
}

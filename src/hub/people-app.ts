/**
 * The hub's side of the people's web app (src/server/people/): who is signed in, and what they may do.
 *
 * Identity comes only from DingTalk (docs/dingtalk.md §13): a 免登 code the hub trades itself (§13.2), or the OAuth
 * code of DingTalk's sign-in page (§13.3, unionId → the directory, or the users API → userId → the directory). A
 * userId or a name sent by the browser is never read. A person DingTalk vouches for but whom the directory does not
 * list gets no session: the hub's people are its config's people.
 *
 * Sessions: a random 256-bit id, given to the browser once; the store keeps its SHA-256 (`app_sessions`, migration
 * 005), so every hub process on the store sees the same sessions and a restart keeps them, while a copy of the
 * table lets nobody in. An expired row is deleted when it is next presented and by `purgeExpired`.
 *
 * What a person may do to a task is the one rule of tasks/access.ts, asked through the task service; the app never
 * decides on its own.
 */

import { createHash, randomBytes } from 'node:crypto';
import { DingTalkError } from '../core/errors.js';
import type { Store } from '../store/open-store.js';
import type { HubConfig } from './config.js';
import { toDelivery } from './delivery/outbox.js';
import type { DingTalkPort } from './dingtalk/port.js';
import { defaultAppName } from './messages/plan.js';
import type { PeopleDirectory, ResolvedPerson } from './people.js';
import type { AppPerson, AppSession, Delivery, PeopleAppService } from './service.js';
import type { AccessRules } from './tasks/access.js';
import { taskIdsCreatedBy } from './tasks/repo.js';
import type { TaskService } from './tasks/tasks.js';

/** Why a person DingTalk identified cannot sign in (the server answers 403 with the reason). */
export class SignInError extends DingTalkError {
  override readonly name: string = 'SignInError';
  readonly reason: 'not_in_directory' | 'no_app';
  constructor(reason: 'not_in_directory' | 'no_app', message: string) {
    super('SIGN_IN', message, { outcome: 'not_sent', retryable: false });
    this.reason = reason;
  }
}

export function isSignInError(e: unknown): e is SignInError {
  return e instanceof SignInError;
}

export const sessionHash = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

/** Session ids are 43 base64url characters (32 random bytes); anything else is not one of ours. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

interface Deps {
  config: HubConfig;
  store: Store;
  people: PeopleDirectory;
  dingtalk: DingTalkPort;
  tasks: TaskService;
  access: AccessRules;
  now: () => number;
  publicUrl: () => string;
  /** The built-in emulator's URL in demo mode. */
  emulatorUrl?: string | undefined;
}

export class PeopleApp implements PeopleAppService {
  readonly #d: Deps;

  constructor(d: Deps) {
    this.#d = d;
  }

  publicUrl(): string {
    return this.#d.publicUrl();
  }

  clientInfo(): {
    corpId?: string | undefined;
    clientId?: string | undefined;
    emulatorOrigin?: string | undefined;
  } {
    const name = defaultAppName(this.#d.config);
    const app = name === undefined ? undefined : this.#d.config.apps[name];
    const emulatorOrigin =
      this.#d.emulatorUrl === undefined ? undefined : new URL(this.#d.emulatorUrl).origin;
    return { corpId: app?.corpId, clientId: app?.appKey, emulatorOrigin };
  }

  cookieSameSite(): 'lax' | 'none' {
    return this.#d.config.peopleApp.cookieSameSite;
  }

  #app(): string {
    const name = defaultAppName(this.#d.config);
    if (name === undefined) throw new SignInError('no_app', 'no DingTalk app is configured for sign-in');
    return name;
  }

  async personByAuthCode(code: string): Promise<AppPerson> {
    const app = this.#app();
    const who = await this.#d.dingtalk.userByAuthCode(app, code);
    const p = (await this.#d.people.byUserId(who.userId)) ?? (await this.#d.people.byUnionId(who.unionId));
    return this.#known(p, who.sysLevel === 1 || who.sysLevel === 2);
  }

  loginUrl(redirectUri: string, state: string): string {
    return this.#d.dingtalk.loginUrl(this.#app(), redirectUri, state);
  }

  async personByLoginCode(code: string): Promise<AppPerson> {
    const app = this.#app();
    const unionId = await this.#d.dingtalk.unionIdByLoginCode(app, code);
    let p = await this.#d.people.byUnionId(unionId);
    if (p === undefined) {
      // The directory may know the person by userId or mobile only: ask DingTalk whose unionId this is.
      const userId = await this.#d.dingtalk.userIdByUnionId(app, unionId).catch(() => undefined);
      if (userId !== undefined) p = await this.#d.people.byUserId(userId);
    }
    return this.#known(p);
  }

  #known(p: ResolvedPerson | undefined, dingtalkAdmin = false): AppPerson {
    if (p === undefined) {
      throw new SignInError(
        'not_in_directory',
        'DingTalk knows you, but this hub does not list you under people; ask its operator to add you',
      );
    }
    return this.#person(p, dingtalkAdmin);
  }

  #person(p: ResolvedPerson, dingtalkAdmin: boolean): AppPerson {
    const operator =
      this.#d.access.admins.includes(p.key) || (dingtalkAdmin && this.#d.config.peopleApp.dingtalkAdmins);
    return { key: p.key, name: p.name, userId: p.userId, operator, dingtalkAdmin };
  }

  async openSession(person: AppPerson, via: AppSession['via']): Promise<{ id: string; expiresAt: number }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.#d.now();
    const expiresAt = now + this.#d.config.peopleApp.sessionTtlMs;
    // Sweeping on sign-in keeps the table to the live sessions without a timer of its own.
    await this.purgeExpired();
    await this.#d.store.db
      .insertInto('app_sessions')
      .values({
        id_hash: sessionHash(id),
        person: person.key,
        via,
        created_at: now,
        expires_at: expiresAt,
        dingtalk_admin: person.dingtalkAdmin ? 1 : 0,
      })
      .execute();
    return { id, expiresAt };
  }

  async readSession(id: string): Promise<AppSession | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    const hash = sessionHash(id);
    const row = await this.#d.store.db
      .selectFrom('app_sessions')
      .selectAll()
      .where('id_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    if (Number(row.expires_at) <= this.#d.now()) {
      await this.#d.store.db.deleteFrom('app_sessions').where('id_hash', '=', hash).execute();
      return undefined;
    }
    // Someone removed from the config since signing in has no session left.
    const p = (await this.#d.people.list()).find((x) => x.key === row.person);
    if (p === undefined) return undefined;
    return {
      person: this.#person(p, Number(row.dingtalk_admin) === 1),
      via: row.via === 'oauth' ? 'oauth' : 'dingtalk',
      expiresAt: Number(row.expires_at),
    };
  }

  async closeSession(id: string): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    await this.#d.store.db.deleteFrom('app_sessions').where('id_hash', '=', sessionHash(id)).execute();
  }

  /** Deletes expired sessions; returns how many. */
  async purgeExpired(): Promise<number> {
    const r = await this.#d.store.db
      .deleteFrom('app_sessions')
      .where('expires_at', '<=', this.#d.now())
      .executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }

  async may(
    taskId: number,
    personKey: string,
    action: 'view' | 'edit' | 'start' | 'done' | 'cancel' | 'reopen',
  ): Promise<boolean> {
    if (!Number.isSafeInteger(taskId)) return false;
    const d = await this.#d.tasks.authorize(this.#d.store.db, taskId, action, { key: personKey });
    return d.allowed;
  }

  createdTaskIds(personKey: string, limit: number): Promise<number[]> {
    return taskIdsCreatedBy(this.#d.store.db, personKey, limit);
  }

  async taskDeliveries(taskId: number): Promise<Delivery[]> {
    if (!Number.isSafeInteger(taskId)) return [];
    // Every request the task service queues for a task starts `{"taskId":<id>,` (tasks.ts, scheduler.ts).
    const rows = await this.#d.store.db
      .selectFrom('deliveries')
      .innerJoin('messages', 'messages.id', 'deliveries.message_id')
      .selectAll('deliveries')
      .where('messages.request_json', 'like', `{"taskId":${taskId},%`)
      .orderBy('deliveries.id', 'desc')
      .limit(100)
      .execute();
    return rows.map(toDelivery);
  }

  groups(): string[] {
    return Object.keys(this.#d.config.groups);
  }
}

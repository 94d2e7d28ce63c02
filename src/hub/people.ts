/**
 * The people directory: who "Alice" is. People are configured by name with whatever is known (a mobile, a
 * userId, a unionId); the rest is resolved through the users API (docs/dingtalk.md §7: mobile → userId →
 * unionId) the first time it is needed, and cached in the store's `people` table so a restart does not ask again.
 *
 * Todos need the unionId (§8), robot @mentions the userId or mobile (§2.5), 1:1 sends the userId (§3.1).
 */

import type { Kysely } from 'kysely';
import { isDingTalkError, ValidationError } from '../core/errors.js';
import type { Database } from '../store/schema.js';
import type { HubConfig } from './config.js';
import type { DingTalkPort } from './dingtalk/port.js';
import { defaultAppName } from './messages/plan.js';
import type { Person } from './service.js';

export interface ResolvedPerson extends Person {
  /** The config key (`people.<key>`). */
  key: string;
}

/**
 * A list of recipients with each person once, in first-seen order: the same person named twice (or by name and by
 * userId) would otherwise get the same message, Todo or file twice.
 */
function uniquePeople<T extends { key: string }>(people: readonly T[]): T[] {
  const seen = new Set<string>();
  return people.filter((p) => !seen.has(p.key) && seen.add(p.key) !== undefined);
}

/** Resolves names (each distinct name once) and merges the people they name. */
export async function resolveUnique(
  dir: PeopleDirectory,
  names: readonly string[],
  need: { userId?: boolean; unionId?: boolean },
): Promise<ResolvedPerson[]> {
  const out: ResolvedPerson[] = [];
  for (const n of new Set(names)) out.push(await dir.resolve(n, need));
  return uniquePeople(out);
}

export class PeopleDirectory {
  readonly #cfg: HubConfig;
  readonly #db: Kysely<Database>;
  readonly #dt: DingTalkPort;
  readonly #now: () => number;

  constructor(o: { config: HubConfig; db: Kysely<Database>; dingtalk: DingTalkPort; now?: () => number }) {
    this.#cfg = o.config;
    this.#db = o.db;
    this.#dt = o.dingtalk;
    this.#now = o.now ?? Date.now;
  }

  /** Every configured person, merged with what the cache knows. No network. */
  async list(db: Kysely<Database> = this.#db): Promise<ResolvedPerson[]> {
    const rows = await db.selectFrom('people').selectAll().execute();
    const cache = new Map(rows.map((r) => [r.name, r]));
    return Object.entries(this.#cfg.people).map(([key, p]) => {
      const c = cache.get(key);
      return clean({
        key,
        name: p.name ?? key,
        mobile: p.mobile ?? c?.mobile ?? undefined,
        userId: p.userId ?? c?.user_id ?? undefined,
        unionId: p.unionId ?? c?.union_id ?? undefined,
      });
    });
  }

  /** The config key of a person named by key, display name or userId; undefined if nobody matches. */
  keyOf(name: string): string | undefined {
    const wanted = name.trim().replace(/^@/, '');
    const low = wanted.toLowerCase();
    for (const [key, p] of Object.entries(this.#cfg.people)) {
      if (key.toLowerCase() === low || p.name === wanted || p.name?.toLowerCase() === low) return key;
    }
    for (const [key, p] of Object.entries(this.#cfg.people)) if (p.userId === wanted) return key;
    return undefined;
  }

  /**
   * A person with the ids `need` asks for, resolving and caching what is missing. Unknown names and failed
   * lookups are ValidationErrors naming the person: nothing gets sent to a guess.
   */
  async resolve(name: string, need: { userId?: boolean; unionId?: boolean } = {}): Promise<ResolvedPerson> {
    const key = this.keyOf(name);
    if (!key)
      throw new ValidationError(`unknown person "${name}" (add them under people in the config)`, 'people');
    const all = await this.list();
    const p = all.find((x) => x.key === key)!;
    const wantsUser = (need.userId || need.unionId) && p.userId === undefined;
    const wantsUnion = need.unionId && p.unionId === undefined;
    if (!wantsUser && !wantsUnion) return p;
    const app = defaultAppName(this.#cfg);
    if (!app) throw new ValidationError(`cannot look up "${p.name}": no app configured`, 'people');
    try {
      if (p.userId === undefined) {
        if (p.mobile !== undefined) p.userId = await this.#dt.userIdByMobile(app, p.mobile);
        else if (p.unionId !== undefined) p.userId = await this.#dt.userIdByUnionId(app, p.unionId);
      }
      if (wantsUnion && p.userId !== undefined) {
        const u = await this.#dt.userGet(app, p.userId);
        if (u.unionId) p.unionId = u.unionId;
      }
    } catch (e) {
      const why = isDingTalkError(e) ? e.code : 'lookup failed';
      throw new ValidationError(`cannot resolve "${p.name}" through the users API (${why})`, 'people');
    }
    if ((need.userId || need.unionId) && p.userId === undefined) {
      throw new ValidationError(`no userId known for "${p.name}"`, 'people');
    }
    if (need.unionId && p.unionId === undefined) {
      throw new ValidationError(`no unionId known for "${p.name}"`, 'people');
    }
    await this.#remember(p);
    return p;
  }

  /** The person behind a userId (inbound messages carry `senderStaffId`, docs/dingtalk.md §9a). */
  async byUserId(userId: string, db?: Kysely<Database>): Promise<ResolvedPerson | undefined> {
    return (await this.list(db)).find((p) => p.userId === userId);
  }

  async byUnionId(unionId: string, db?: Kysely<Database>): Promise<ResolvedPerson | undefined> {
    return (await this.list(db)).find((p) => p.unionId === unionId);
  }

  async #remember(p: ResolvedPerson): Promise<void> {
    const row = {
      name: p.key,
      mobile: p.mobile ?? null,
      user_id: p.userId ?? null,
      union_id: p.unionId ?? null,
      resolved_at: this.#now(),
    };
    await this.#db
      .insertInto('people')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          mobile: row.mobile,
          user_id: row.user_id,
          union_id: row.union_id,
          resolved_at: row.resolved_at,
        }),
      )
      .execute();
  }
}

function clean(p: ResolvedPerson): ResolvedPerson {
  const out: ResolvedPerson = { key: p.key, name: p.name };
  if (p.mobile !== undefined) out.mobile = p.mobile;
  if (p.userId !== undefined) out.userId = p.userId;
  if (p.unionId !== undefined) out.unionId = p.unionId;
  return out;
}

/**
 * Users (docs/dingtalk.md §7): mobile → userId, userId → details (incl. unionId), unionId → userId, on oapi `topapi`.
 * Todo and several v1.0 APIs take unionIds while bot callbacks and robot sends use userIds, so these lookups sit
 * on hot paths; answers are cached per instance in a small bounded TTL cache. A failed lookup is not cached.
 */

import type { ApiContext } from '../../core/context.js';
import {
  appRateKey,
  badResponse,
  type CallOptions,
  callFields,
  type Json,
  needObject,
  needString,
  optBool,
  optNumber,
  optString,
} from '../shared/response.js';
import { TtlCache } from '../shared/ttl-cache.js';
import { requireText } from '../shared/validate.js';

export interface UsersOptions {
  /**
   * How long a lookup is reused.
   * @default 600_000 (10 minutes)
   */
  cacheTtlMs?: number;
  /**
   * Most cached lookups (per kind). `0` disables the cache.
   * @default 1_000
   */
  cacheSize?: number;
}

export interface UserDetails {
  userId: string;
  unionId: string | undefined;
  name: string | undefined;
  /** Needs the phone-number permission; absent otherwise. */
  mobile: string | undefined;
  email: string | undefined;
  title: string | undefined;
  jobNumber: string | undefined;
  deptIds: number[];
  managerUserId: string | undefined;
  active: boolean | undefined;
  admin: boolean | undefined;
  avatar: string | undefined;
}

export interface UnionIdLookup {
  userId: string;
  /** 0 employee, 1 external contact. */
  contactType: number | undefined;
}

export class Users {
  readonly #ctx: ApiContext;
  readonly #byMobile: TtlCache<string>;
  readonly #details: TtlCache<UserDetails>;
  readonly #byUnion: TtlCache<UnionIdLookup>;
  /** Lookups in flight, by kind and key: concurrent callers asking the same thing share one request. */
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(ctx: ApiContext, options: UsersOptions = {}) {
    this.#ctx = ctx;
    const o = { maxEntries: options.cacheSize ?? 1_000, ttlMs: options.cacheTtlMs ?? 600_000, now: ctx.now };
    this.#byMobile = new TtlCache(o);
    this.#details = new TtlCache(o);
    this.#byUnion = new TtlCache(o);
  }

  /**
   * userId of the org member with this mobile number (needs `qyapi_get_member_by_mobile`).
   * @example
   * const userId = await dt.users.userIdByMobile('13800000000');
   */
  async userIdByMobile(mobile: string, options: CallOptions = {}): Promise<string> {
    const op = 'users.byMobile';
    requireText(mobile, 'mobile', op, 15);
    const hit = this.#byMobile.get(mobile);
    if (hit !== undefined) return hit;
    const load = async (): Promise<string> => {
      const result = await this.#post(op, '/topapi/v2/user/getbymobile', { mobile }, options);
      const userId = needString(result, 'userid', op);
      this.#byMobile.set(mobile, userId);
      return userId;
    };
    return this.#once(`m|${mobile}`, load, options.signal);
  }

  /**
   * Details of a user, including the unionId Todo needs.
   * @example
   * const { unionId, name } = await dt.users.get('manager4220');
   */
  async get(
    userId: string,
    options: CallOptions & { language?: 'zh_CN' | 'en_US' } = {},
  ): Promise<UserDetails> {
    const op = 'users.get';
    requireText(userId, 'userId', op, 64);
    const key = `${options.language ?? ''}|${userId}`;
    const hit = this.#details.get(key);
    if (hit !== undefined) return hit;
    return this.#once(`d|${key}`, () => this.#loadDetails(op, key, userId, options), options.signal);
  }

  async #loadDetails(
    op: string,
    key: string,
    userId: string,
    options: CallOptions & { language?: 'zh_CN' | 'en_US' },
  ): Promise<UserDetails> {
    const body: Json = { userid: userId };
    if (options.language !== undefined) body['language'] = options.language;
    const r = await this.#post(op, '/topapi/v2/user/get', body, options);
    const details: UserDetails = {
      userId: needString(r, 'userid', op),
      unionId: optString(r, 'unionid'),
      name: optString(r, 'name'),
      mobile: optString(r, 'mobile'),
      email: optString(r, 'email'),
      title: optString(r, 'title'),
      jobNumber: optString(r, 'job_number'),
      deptIds: Array.isArray(r['dept_id_list'])
        ? (r['dept_id_list'] as unknown[]).filter((x): x is number => typeof x === 'number')
        : [],
      managerUserId: optString(r, 'manager_userid'),
      active: optBool(r, 'active'),
      admin: optBool(r, 'admin'),
      avatar: optString(r, 'avatar'),
    };
    this.#details.set(key, details);
    return details;
  }

  /**
   * unionId of a user (via `get`, cached).
   * @example
   * const unionId = await dt.users.unionIdOf('manager4220');
   */
  async unionIdOf(userId: string, options: CallOptions = {}): Promise<string> {
    const d = await this.get(userId, options);
    if (d.unionId === undefined || d.unionId === '') {
      throw badResponse('users.get', 'unionid');
    }
    return d.unionId;
  }

  /**
   * userId for a unionId (e.g. from a Todo or a bot callback's `senderUnionId`).
   * @example
   * const { userId } = await dt.users.byUnionId(unionId);
   */
  async byUnionId(unionId: string, options: CallOptions = {}): Promise<UnionIdLookup> {
    const op = 'users.byUnionId';
    requireText(unionId, 'unionId', op, 100);
    const hit = this.#byUnion.get(unionId);
    if (hit !== undefined) return hit;
    const load = async (): Promise<UnionIdLookup> => {
      const r = await this.#post(op, '/topapi/user/getbyunionid', { unionid: unionId }, options);
      const out: UnionIdLookup = {
        userId: needString(r, 'userid', op),
        contactType: optNumber(r, 'contact_type'),
      };
      this.#byUnion.set(unionId, out);
      return out;
    };
    return this.#once(`u|${unionId}`, load, options.signal);
  }

  /** Forgets every cached lookup (e.g. after an org change). */
  clearCache(): void {
    this.#byMobile.clear();
    this.#details.clear();
    this.#byUnion.clear();
  }

  /**
   * Joins a running lookup of the same key. A call with its own abort signal runs alone, so one caller's abort
   * never fails another's lookup.
   */
  #once<T>(key: string, load: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal) return load();
    const running = this.#inflight.get(key);
    if (running) return running as Promise<T>;
    const p = load().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #post(op: string, path: string, body: Json, o: CallOptions): Promise<Json> {
    const res = await this.#ctx.request({
      operation: op,
      host: 'oapi',
      method: 'POST',
      path,
      body,
      auth: 'app',
      idempotent: true,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(o),
    });
    return needObject(res.data as Json, 'result', op);
  }
}

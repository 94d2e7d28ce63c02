/**
 * The emulator's in-memory state: the org (indexed for O(1) lookups on the hot paths), app access tokens,
 * custom-robot windows, session webhooks, and every record of what was sent. One instance per emulator; nothing
 * lives at module level.
 */
import { createHash } from 'node:crypto';
import { SignInState } from './sign-in-state.js';
import { SlidingWindow } from './sliding-window.js';
import { seededRandom } from './stream/frames.js';
import { TokenGate } from './token-gate.js';
import type {
  AppDef,
  CardRecord,
  CustomRobotDef,
  EmulatorFixture,
  EmulatorLimits,
  FaultLogRecord,
  GroupDef,
  MediaRecord,
  MessageRecord,
  NoticeRecord,
  OrgDef,
  RequestRecord,
  SavedRecords,
  TodoRecord,
  UserDef,
} from './types.js';

/** A file or picture a bot message carried, served to the robot that received it by its download code. */
export interface Download {
  code: string;
  robotCode: string;
  fileName: string;
  contentType: string;
  bytes: Buffer;
}

export type ResolvedLimits = Required<EmulatorLimits>;

export const DEFAULT_LIMITS: ResolvedLimits = {
  robotWindowMs: 60_000,
  robotLimit: 20,
  robotPenaltyMs: 600_000,
  robotThrottleErrcode: 410100,
  unknownRobotErrcode: 300005,
  robotSignWindowMs: 3_600_000,
  robotMaxBytes: 20_000,
  tokenTtlSec: 7200,
  appQpsLimit: 0,
  noticeDailyCap: 500,
  sessionTtlMs: 5_400_000,
  queryKeyTtlMs: 86_400_000,
  callbackTimeoutMs: 2500,
  callbackRetries: 0,
  callbackRetryDelayMs: 1000,
  otoMaxUsers: 20,
  otoFlowLimit: 0,
  otoFlowWindowMs: 60_000,
  maxBodyBytes: 25 * 1024 * 1024,
  authCodeTtlMs: 300_000,
  authCodeErrcode: 40078,
};

export interface TokenEntry {
  token: string;
  appKey: string;
  expiresAt: number;
}

export interface SessionEntry {
  session: string;
  conversation: string;
  robotCode: string;
  expiresAt: number;
}

export type TokenCheck = { ok: true; app: AppDef } | { ok: false; reason: 'unknown' | 'expired' };

const HEX = '0123456789abcdef';

/** Bytes of uploaded media kept for downloads (the oldest go first). */
export const MEDIA_BYTES_CAP = 256 * 1024 * 1024;

export class EmulatorState {
  readonly limits: ResolvedLimits;
  readonly now: () => number;
  org: OrgDef;
  readonly apps = new Map<string, AppDef>();
  readonly appsByRobotCode = new Map<string, AppDef>();
  readonly appsByAgentId = new Map<number, AppDef>();
  readonly users = new Map<string, UserDef>();
  readonly usersByUnionId = new Map<string, UserDef>();
  readonly usersByMobile = new Map<string, UserDef>();
  readonly groups = new Map<string, GroupDef>();
  readonly groupsByChatid = new Map<string, GroupDef>();
  readonly robots = new Map<string, CustomRobotDef>();
  readonly robotsByName = new Map<string, CustomRobotDef>();
  readonly windows = new Map<string, SlidingWindow>();
  readonly tokens = new Map<string, TokenEntry>();
  readonly tokensByApp = new Map<string, TokenEntry>();
  /** Token request counts and the hold gate (token-gate.ts). */
  readonly tokenGate = new TokenGate();
  readonly sessions = new Map<string, SessionEntry>();
  /** `${robotToken}|${msgUuid}` → message seq (docs/dingtalk.md §2.1 idempotency key). */
  readonly msgUuids = new Map<string, number>();
  messages: MessageRecord[] = [];
  readonly messagesByConversation = new Map<string, MessageRecord[]>();
  readonly messagesByQueryKey = new Map<string, MessageRecord[]>();
  notices: NoticeRecord[] = [];
  /** `${appKey}|${userId}|${yyyy-mm-dd}` → count and content hashes, for the §5.2 per-day rules. */
  readonly noticeDay = new Map<string, { count: number; hashes: Set<string> }>();
  readonly noticeTasks = new Map<number, { appKey: string; at: number; records: NoticeRecord[] }>();
  readonly media = new Map<string, MediaRecord>();
  /**
   * The bytes of uploaded media, so the emulated client can offer a file message's download. Kept in memory only
   * (never saved), the oldest dropped once `MEDIA_BYTES_CAP` is passed.
   */
  readonly mediaBytes = new Map<string, Buffer>();
  #mediaBytesTotal = 0;
  readonly #mediaBytesCap: number;
  /** downloadCode → bytes of files and pictures people sent to a robot (§9a, §3.1). */
  readonly downloads = new Map<string, Download>();
  readonly todos = new Map<string, TodoRecord>();
  readonly todoSources = new Map<string, string>();
  readonly cards = new Map<string, CardRecord>();
  /** One-time sign-in codes and user tokens (docs/dingtalk.md §13.2, §13.3). */
  readonly signIn: SignInState;
  readonly requestLog: RequestRecord[] = [];
  readonly requestLogSize: number;
  requestLogStart = 0;
  readonly faultLog: FaultLogRecord[] = [];
  /** Handlers that threw (answered as a platform 500 / errcode -1). Always 0 unless the emulator has a bug. */
  handlerErrors = 0;
  #random: () => number;
  #seq = 0;
  #requestSeq = 0;
  #idSeq = 0;

  constructor(
    fixture: EmulatorFixture,
    opts: {
      limits?: EmulatorLimits;
      now?: () => number;
      seed?: number;
      requestLogSize?: number;
      /** Bytes of uploaded media kept for downloads. @default MEDIA_BYTES_CAP */
      mediaBytesCap?: number;
    },
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...stripUndefined(opts.limits ?? {}) };
    this.now = opts.now ?? Date.now;
    this.#random = seededRandom(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.requestLogSize = opts.requestLogSize ?? 100_000;
    this.#mediaBytesCap = opts.mediaBytesCap ?? MEDIA_BYTES_CAP;
    this.org = structuredClone(fixture.org);
    this.signIn = new SignInState({ now: this.now, hex: (n) => this.hex(n), limits: this.limits });
    this.#index();
    if (fixture.records) this.#loadRecords(fixture.records);
  }

  /** Rebuilds every index from `org` (after a reset or an org edit through the control API). */
  #index(): void {
    for (const m of [this.apps, this.appsByRobotCode, this.users, this.usersByUnionId, this.usersByMobile])
      m.clear();
    this.appsByAgentId.clear();
    this.groups.clear();
    this.groupsByChatid.clear();
    this.robots.clear();
    this.robotsByName.clear();
    for (const a of this.org.apps) {
      this.apps.set(a.appKey, a);
      this.appsByRobotCode.set(a.robotCode, a);
      this.appsByAgentId.set(a.agentId, a);
    }
    for (const u of this.org.users) {
      this.users.set(u.userId, u);
      this.usersByUnionId.set(u.unionId, u);
      this.usersByMobile.set(u.mobile, u);
    }
    for (const g of this.org.groups) {
      this.groups.set(g.openConversationId, g);
      this.groupsByChatid.set(g.chatid, g);
    }
    for (const r of this.org.customRobots) {
      this.robots.set(r.token, r);
      this.robotsByName.set(r.name, r);
    }
  }

  #loadRecords(r: Partial<SavedRecords>): void {
    for (const m of r.messages ?? []) this.addMessage(m);
    this.notices = [...(r.notices ?? [])];
    for (const m of r.media ?? []) this.media.set(m.mediaId, m);
    for (const t of r.todos ?? []) {
      this.todos.set(t.id, t);
      if (t.sourceId !== undefined) this.todoSources.set(`${t.owner}|${t.sourceId}`, t.id);
    }
    for (const c of r.cards ?? []) this.cards.set(c.outTrackId, c);
    this.#seq = this.messages.reduce((n, m) => Math.max(n, m.seq), 0);
  }

  /** Drops every record, token, window and session; keeps (a fresh copy of) the given org. */
  reset(fixture?: EmulatorFixture): void {
    if (fixture) this.org = structuredClone(fixture.org);
    this.#index();
    this.windows.clear();
    this.tokens.clear();
    this.tokensByApp.clear();
    this.tokenGate.reset();
    this.sessions.clear();
    this.msgUuids.clear();
    this.messages = [];
    this.messagesByConversation.clear();
    this.messagesByQueryKey.clear();
    this.notices = [];
    this.noticeDay.clear();
    this.noticeTasks.clear();
    this.media.clear();
    this.mediaBytes.clear();
    this.#mediaBytesTotal = 0;
    this.downloads.clear();
    this.todos.clear();
    this.todoSources.clear();
    this.cards.clear();
    this.signIn.clear();
    this.requestLog.length = 0;
    this.requestLogStart = 0;
    this.faultLog.length = 0;
    if (fixture?.records) this.#loadRecords(fixture.records);
  }

  reseed(seed: number): void {
    this.#random = seededRandom(seed);
  }

  random(): number {
    return this.#random();
  }

  /** Random lower-case hex of `n` chars from the seeded source (ids are reproducible under a seed). */
  hex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += HEX[Math.floor(this.#random() * 16)];
    return out;
  }

  /** A unique id: a counter keeps ids unique even when two seeded runs would draw the same hex. */
  id(prefix: string, n = 16): string {
    this.#idSeq++;
    return `${prefix}${this.#idSeq.toString(36)}${this.hex(n)}`;
  }

  nextRequestSeq(): number {
    return ++this.#requestSeq;
  }

  /** How many requests were received so far (control routes included). */
  nextRequestSeqPeek(): number {
    return this.#requestSeq;
  }

  // ---- tokens (§1.2: same token while valid, validity extended on each call; new one after expiry) ----

  issueToken(appKey: string): TokenEntry {
    const now = this.now();
    const ttl = this.limits.tokenTtlSec * 1000;
    const cur = this.tokensByApp.get(appKey);
    if (cur && now < cur.expiresAt) {
      cur.expiresAt = now + ttl;
      return cur;
    }
    if (cur) this.tokens.delete(cur.token);
    const entry = { token: this.hex(32), appKey, expiresAt: now + ttl };
    this.tokenGate.noteIssued(appKey);
    this.tokens.set(entry.token, entry);
    this.tokensByApp.set(appKey, entry);
    return entry;
  }

  checkToken(token: string): TokenCheck {
    const e = this.tokens.get(token);
    if (!e) return { ok: false, reason: 'unknown' };
    if (this.now() >= e.expiresAt) return { ok: false, reason: 'expired' };
    const app = this.apps.get(e.appKey);
    return app ? { ok: true, app } : { ok: false, reason: 'unknown' };
  }

  /** Makes every current token expire now (tests of the refresh-once path). */
  expireTokens(): number {
    const now = this.now();
    for (const e of this.tokens.values()) e.expiresAt = now;
    return this.tokens.size;
  }

  checkAppSecret(appKey: string, appSecret: string): boolean {
    const app = this.apps.get(appKey);
    return app !== undefined && app.appSecret === appSecret;
  }

  robotWindow(token: string): SlidingWindow {
    let w = this.windows.get(token);
    if (!w) {
      w = new SlidingWindow({
        windowMs: this.limits.robotWindowMs,
        limit: this.limits.robotLimit,
        penaltyMs: this.limits.robotPenaltyMs,
      });
      this.windows.set(token, w);
    }
    return w;
  }

  /** §0.2 per-app, per-API QPS: true when this call is within `appQpsLimit` for the current second. */
  appCallAllowed(appKey: string, path: string): boolean {
    if (this.limits.appQpsLimit <= 0) return true;
    const key = `qps|${appKey}|${path}`;
    let w = this.windows.get(key);
    if (!w) {
      w = new SlidingWindow({ windowMs: 1000, limit: this.limits.appQpsLimit, penaltyMs: 0 });
      this.windows.set(key, w);
    }
    return w.hit(this.now()).ok;
  }

  openSession(conversation: string, robotCode: string): SessionEntry {
    const s = {
      session: this.hex(32),
      conversation,
      robotCode,
      expiresAt: this.now() + this.limits.sessionTtlMs,
    };
    this.sessions.set(s.session, s);
    return s;
  }

  // ---- records ----

  nextMessageSeq(): number {
    return ++this.#seq;
  }

  addMessage(m: MessageRecord): MessageRecord {
    this.messages.push(m);
    let list = this.messagesByConversation.get(m.conversation);
    if (!list) {
      list = [];
      this.messagesByConversation.set(m.conversation, list);
    }
    list.push(m);
    if (m.processQueryKey !== undefined) {
      let byKey = this.messagesByQueryKey.get(m.processQueryKey);
      if (!byKey) {
        byKey = [];
        this.messagesByQueryKey.set(m.processQueryKey, byKey);
      }
      byKey.push(m);
    }
    return m;
  }

  keepMediaBytes(mediaId: string, bytes: Buffer): void {
    this.mediaBytes.set(mediaId, bytes);
    this.#mediaBytesTotal += bytes.length;
    for (const [id, b] of this.mediaBytes) {
      if (this.#mediaBytesTotal <= this.#mediaBytesCap || id === mediaId) break;
      this.mediaBytes.delete(id);
      this.#mediaBytesTotal -= b.length;
    }
  }

  logRequest(r: RequestRecord): void {
    if (this.requestLogSize <= 0) return;
    if (this.requestLog.length >= this.requestLogSize) {
      // Ring: drop the oldest tenth at once so the shift cost is amortised.
      const drop = Math.max(1, Math.floor(this.requestLogSize / 10));
      this.requestLog.splice(0, drop);
      this.requestLogStart += drop;
    }
    this.requestLog.push(r);
  }

  userByAnyId(id: string): UserDef | undefined {
    return this.users.get(id) ?? this.usersByUnionId.get(id) ?? this.usersByMobile.get(id);
  }

  snapshot(): EmulatorFixture {
    return {
      version: 1,
      org: structuredClone(this.org),
      records: {
        messages: this.messages,
        notices: this.notices,
        media: [...this.media.values()],
        todos: [...this.todos.values()],
        cards: [...this.cards.values()],
      },
    };
  }
}

/** 16-hex sha256 over the parts: equal parts → equal fingerprint, so duplicates are countable. */
export function fingerprint(...parts: unknown[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : canonicalJson(p)).update('\u0000');
  return h.digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so field order never changes a fingerprint. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Public types of the emulator: the org fixture (what is seeded), the records (what was sent and received),
 * the limits and the faults. The JSON fixture format (docs/emulator.md) is exactly `EmulatorFixture`.
 */
import type { StreamFaults, StreamGatewayOptions } from './stream/types.js';

/** An enterprise-internal app (docs/dingtalk.md §1, §3). For internal apps `robotCode` equals the appKey (§3). */
export interface AppDef {
  appKey: string;
  appSecret: string;
  agentId: number;
  robotCode: string;
  name: string;
  /**
   * Encrypted HTTP event subscription (§9b): where `/_emulator/callbacks/push` and pushed events go.
   * `ownerKey` is the appKey (§9b step 6).
   */
  callback?: { url?: string; token: string; aesKey: string };
  /**
   * HTTP-mode robot callback URL (§9a): @bot messages are POSTed here with `timestamp` + `sign` headers, in
   * addition to the Stream CALLBACK frame.
   */
  botCallbackUrl?: string;
  /** HTTP card callback registered with `/v1.0/card/callbacks/register` (§10). */
  cardCallback?: { routeKey: string; url: string; apiSecret?: string };
  /**
   * The app's homepage (应用首页地址, docs/dingtalk.md §13.1): what the emulated client's workbench opens in its
   * phone frame. Optional; `dingkit serve` in demo mode sets it to the hub's `/app/` page.
   * @example 'http://127.0.0.1:8787/app/'
   */
  homepageUrl?: string;
}

export interface UserDef {
  userId: string;
  unionId: string;
  mobile: string;
  name: string;
  title?: string;
  email?: string;
  /** What 免登 answers as `sys_level` (§13.2): 1 main admin, 2 sub-admin, 100 boss, 0 everyone else. @default 0 */
  sysLevel?: number;
  /**
   * The userId of this person's manager (直属主管), answered by `topapi/v2/user/get` as `manager_userid`
   * (docs/dingtalk.md §7); absent: the field is left out, as for someone with no manager set.
   */
  managerUserId?: string;
}

export interface GroupDef {
  openConversationId: string;
  chatid: string;
  name: string;
  ownerUserId: string;
  /** userIds. */
  members: string[];
  /** robotCodes of app robots installed in the group. */
  robotCodes: string[];
  dissolved?: boolean;
}

/** Security settings of a custom robot (§2.2): at least one of the three. */
export interface RobotSecurity {
  keywords?: string[];
  /** The `SEC...` signing secret. */
  secret?: string;
  /** IPv4 addresses or CIDR ranges. */
  ipAllowlist?: string[];
}

export interface CustomRobotDef {
  /** Handle used by the control API and `webhookUrl(name)`. */
  name: string;
  /** The 64-hex webhook `access_token`. */
  token: string;
  /** openConversationId of the one group the robot lives in: the token is the group binding (§2.6). */
  group: string;
  security: RobotSecurity;
  disabled?: boolean;
}

export interface OrgDef {
  corpId: string;
  name: string;
  apps: AppDef[];
  users: UserDef[];
  groups: GroupDef[];
  customRobots: CustomRobotDef[];
}

/** The fixture file: `{ "version": 1, "org": {...}, "records": {...}? }` (docs/emulator.md). */
export interface EmulatorFixture {
  version: 1;
  org: OrgDef;
  records?: Partial<SavedRecords>;
}

/** Which fault fired on a request, as written into records (the oracle counts them). */
export type FaultKind =
  | 'error_5xx'
  | 'throttle'
  | 'hang'
  | 'reset_before'
  | 'reset_after'
  | 'latency'
  | 'robot_throttle';

export type MessageSource =
  | 'custom_robot'
  | 'app_robot'
  | 'session_webhook'
  | 'inline_reply'
  | 'chat_send'
  | 'user'
  | 'card';

export interface MessageRecord {
  /** Emulator-wide sequence number, 1-based. */
  seq: number;
  at: number;
  /** openConversationId for groups, `oto:<userId>` for robot 1:1 chats. */
  conversation: string;
  source: MessageSource;
  /** Custom robot name, or the app robotCode. */
  robot?: string;
  /** userId of a person posting through the control API. */
  from?: string;
  /** robotCode of the app robot a person @-mentioned in a group (the message reached the bot). */
  atBot?: string;
  /** Webhook `msgtype` or app-robot `msgKey`. */
  type: string;
  /** The message object as sent (webhook body minus `at`, or the parsed msgParam). */
  content: unknown;
  /** The plain text a human would read (text/markdown/title), for easy assertions. */
  text: string;
  atUserIds: string[];
  atMobiles: string[];
  isAtAll: boolean;
  processQueryKey?: string;
  msgUuid?: string;
  recalled?: boolean;
  readBy: string[];
  /** The fault that fired on the accepting request, if any (hang / reset_after accepted first). */
  fault?: FaultKind;
  /** sha256 (hex, 16 chars) over route + robot + conversation + canonical content: equal for a duplicate send. */
  fingerprint: string;
}

export interface NoticeRecord {
  taskId: number;
  at: number;
  agentId: number;
  appKey: string;
  userId: string;
  msg: unknown;
  /** Why this recipient did not receive it (§5.2): 143106 same content today, 143105 daily cap. */
  forbiddenCode?: number;
  recalled?: boolean;
  /** When the person opened it in the emulated client (or a test said so): `read_user_id_list` of the result. */
  readAt?: number;
  fault?: FaultKind;
  fingerprint: string;
}

export interface MediaRecord {
  mediaId: string;
  type: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: number;
}

export interface TodoRecord {
  id: string;
  /** unionId owning the path the task was created under. */
  owner: string;
  subject: string;
  description?: string;
  dueTime?: number;
  done: boolean;
  finishTime?: number;
  executorIds: string[];
  participantIds: string[];
  detailUrl?: { appUrl?: string; pcUrl?: string };
  sourceId?: string;
  creatorId: string;
  modifierId: string;
  createdTime: number;
  modifiedTime: number;
  priority?: number;
  isOnlyShowExecutor?: boolean;
  contentFieldList?: Array<{ fieldKey: string; fieldValue: string }>;
  notifyConfigs?: Record<string, string>;
  deleted?: boolean;
  bizTag: string;
  /** App whose token created the task (events about it go to this app). */
  appKey?: string;
}

export interface CardRecord {
  outTrackId: string;
  cardTemplateId: string;
  openSpaceId: string;
  spaceType: string;
  spaceId: string;
  callbackType?: string;
  callbackRouteKey?: string;
  robotCode?: string;
  appKey: string;
  cardParamMap: Record<string, string>;
  privateData: Record<string, Record<string, string>>;
  createdAt: number;
  updates: number;
  clicks: number;
}

export interface RequestRecord {
  seq: number;
  at: number;
  method: string;
  /** The route pattern matched, e.g. `POST /robot/send`, or `unknown`. */
  route: string;
  /** Path without the query string (tokens and signatures live in the query and are never recorded). */
  path: string;
  status: number;
  /** Legacy errcode or v1.0 code of the answer; 0 / '' on success. */
  code: number | string;
  /** Custom robot name or app robotCode the request was for (per-robot limit and penalty checks). */
  robot?: string;
  fault?: FaultKind;
  durationMs: number;
}

export interface FaultLogRecord {
  seq: number;
  at: number;
  /** The request's sequence number (RequestRecord.seq). */
  request: number;
  route: string;
  robot?: string;
  kind: FaultKind;
  /** For hang / reset_after: whether the request's effect was applied before the fault. */
  accepted: boolean;
  /** The message record created by an accepted request, if any. */
  message?: number;
}

export interface CallbackPushRecord {
  at: number;
  appKey: string;
  url: string;
  eventType: string;
  ok: boolean;
  /** `ok`, `timeout`, `http_<status>`, `network`, `bad_reply`, `bad_signature`, `not_success`. */
  result: string;
  ms: number;
  /** Why it was sent: the first attempt, a retry after a failed one, or a re-push of an answered one (a fault). */
  reason?: 'first' | 'retry' | 'answered_repush';
}

export interface SavedRecords {
  messages: MessageRecord[];
  notices: NoticeRecord[];
  media: MediaRecord[];
  todos: TodoRecord[];
  cards: CardRecord[];
}

/**
 * Settings that tests scale down.
 * @example { robotWindowMs: 2000, robotLimit: 20, robotPenaltyMs: 5000, tokenTtlSec: 60 }
 */
export interface EmulatorLimits {
  /** Custom robot sliding window (§2.6). @default 60_000 */
  robotWindowMs?: number;
  /** Messages per window per robot. @default 20 */
  robotLimit?: number;
  /** Block after the limit is exceeded. @default 600_000 */
  robotPenaltyMs?: number;
  /** Throttle errcode for custom robots (§12: 410100 doc, 130101 / 660026 observed). @default 410100 */
  robotThrottleErrcode?: number;
  /** Unknown webhook token errcode (§12: 400101 doc, 300005 observed). @default 300005 */
  unknownRobotErrcode?: number;
  /** Signed webhook timestamp window (§2.3). @default 3_600_000 */
  robotSignWindowMs?: number;
  /** Webhook body size cap in bytes (unverified; the app-robot msgParam cap is 15,000 bytes, §3.1). @default 20_000 */
  robotMaxBytes?: number;
  /**
   * Per app, per API calls per second (§0.2: 20 on a standard-edition org): over it, oapi answers 90018 and api
   * 403 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`. 0 turns the check off. @default 0
   */
  appQpsLimit?: number;
  /** Access token lifetime in seconds (§1.2). @default 7200 */
  tokenTtlSec?: number;
  /** Work notices per app per user per day (§5.2). @default 500 */
  noticeDailyCap?: number;
  /** Session webhook lifetime (§9a: createAt + ~90 min). @default 5_400_000 */
  sessionTtlMs?: number;
  /** processQueryKey usable for recall/read status (§3.1). @default 86_400_000 */
  queryKeyTtlMs?: number;
  /** userIds per `oToMessages/batchSend` (§12: 20 in the parameter table, 100 in the error text). @default 20 */
  otoMaxUsers?: number;
  /**
   * 1:1 robot messages one app may send one person per `otoFlowWindowMs`; over it the person is answered in
   * `flowControlledStaffIdList` and gets nothing (§3.1 names the list, not its rule: a fault source). 0: off.
   * @default 0
   */
  otoFlowLimit?: number;
  /** @default 60_000 */
  otoFlowWindowMs?: number;
  /** Deadline for the encrypted `success` reply to an HTTP event push (§9b). @default 2500 */
  callbackTimeoutMs?: number;
  /**
   * Extra pushes of an HTTP event not answered with the encrypted success, and of an HTTP robot message not answered
   * 200 (both schedules unverified, §12). @default 0
   */
  callbackRetries?: number;
  /** Delay before each extra push. @default 1000 */
  callbackRetryDelayMs?: number;
  /** Largest request body read, in bytes; larger → 413-equivalent error. @default 25 MiB */
  maxBodyBytes?: number;
  /** Lifetime of a one-time sign-in code, 免登 or OAuth (§13.2: 5 minutes). @default 300_000 */
  authCodeTtlMs?: number;
  /**
   * errcode of `topapi/v2/user/getuserinfo` for a used, expired, unknown or other app's code (§12: DingTalk's is
   * unverified; 40078 is the global table's "auth code does not exist or was used"). @default 40078
   */
  authCodeErrcode?: number;
}

/** One fault rule. Shares are probabilities 0..1 drawn from the seeded source, in the order listed. */
export interface FaultRule {
  /** Route pattern (`POST /robot/send`), a path prefix ending in `*` (`/v1.0/robot/*`), or `*`. @default '*' */
  route?: string;
  /** Only requests for this custom robot (name or token) or app robotCode. */
  robot?: string;
  /** Connection reset before the request body is read (nothing applied). */
  resetBefore?: number;
  /** HTTP 5xx answer (nothing applied). */
  error5xx?: number;
  /** Throttle answer in the host's shape (oapi 90018 / robot throttle errcode, api 403 Qps...) (nothing applied). */
  throttle?: number;
  /** Never answer; the socket stays open until the client gives up. */
  hang?: number;
  /** Connection reset after the request was read. */
  resetAfter?: number;
  /** For hang / resetAfter: share of them where the effect is applied first. @default 0.5 */
  acceptFirst?: number;
  /** Added latency before the answer, in ms. */
  latencyMs?: number;
}

/**
 * @example
 * emu.setFaults({ seed: 7, rules: [{ route: 'POST /robot/send', error5xx: 0.3, hang: 0.1, acceptFirst: 0.5 }],
 *   stream: { dropEveryMs: 5000 } });
 */
export interface EmulatorFaults {
  /** Reseeds the fault source so a schedule replays. */
  seed?: number;
  rules?: FaultRule[];
  /** Passed to the Stream gateway (drops every N ms, re-pushed acked frames, refused upgrades). */
  stream?: StreamFaults;
  /** The emulator's HTTP pushes to an app: answered robot and event pushes sent again (`repushAnsweredRate`). */
  callbacks?: { repushAnsweredRate?: number };
}

/**
 * @example
 * const emu = await startEmulator({ port: 0, seed: 1, limits: { robotWindowMs: 2000, robotPenaltyMs: 5000 } });
 */
export interface EmulatorOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Host names answered besides loopback names and IP literals; a request (or WebSocket upgrade) with any other
   * `Host` header is refused 403 as DNS rebinding (src/core/allowed-hosts.ts).
   * @default []
   * @example ['emulator.internal']
   */
  allowedHosts?: readonly string[];
  /** An org fixture object, or a path to a JSON fixture file. @default DEMO_ORG */
  fixture?: EmulatorFixture | string;
  /** Save org and records to this JSON file on `close()` (and on `emulator.save()`). */
  save?: string;
  /** Seed for every random choice the emulator makes (ids, faults). @default random */
  seed?: number;
  limits?: EmulatorLimits;
  /** Stream gateway options (authenticate and wsBase are supplied by the emulator). */
  stream?: Omit<StreamGatewayOptions, 'authenticate' | 'wsBase'>;
  /** Keep the request log. @default true */
  logRequests?: boolean;
  /** Request log ring size. @default 100_000 */
  requestLogSize?: number;
  /** Clock (epoch ms). @default Date.now */
  now?: () => number;
  /** Event type pushed when a user marks a Todo done (unverified: no official name found). @default 'todo_task_update' */
  todoDoneEventType?: string;
  initialFaults?: EmulatorFaults;
}

/**
 * The `Emulator` instance: state, route table, Stream gateway and server of one emulated DingTalk. Everything hangs off
 * the instance (no module state), so tests can run several emulators side by side. Built by `startEmulator`
 * (emulator.ts), which also mounts the control API on its route table.
 */
import { createHmac, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Acting,
  ActingError,
  type CallbackPushResult,
  type ClickCardInput,
  type FireEventInput,
  type PostDirectInput,
  type PostMessageInput,
  type PostMessageResult,
  type PushCallbackInput,
} from './acting.js';
import { demoOrg } from './demo-org.js';
import { FaultPlan, validateRules } from './faults.js';
import { RouteTable } from './route-table.js';
import { registerRoutes } from './routes/index.js';
import { createEmulatorServer } from './server.js';
import { EmulatorState } from './state.js';
import { StreamGateway } from './stream/gateway.js';
import type { TokenStats } from './token-gate.js';
import type {
  EmulatorFaults,
  EmulatorFixture,
  EmulatorOptions,
  FaultLogRecord,
  MessageRecord,
  NoticeRecord,
  RequestRecord,
  TodoRecord,
} from './types.js';

export interface RequestFilter {
  /** Route id (`POST /robot/send`) or path. */
  route?: string;
  /** Only requests with seq greater than this. */
  since?: number;
}

export class Emulator {
  readonly state: EmulatorState;
  readonly gateway: StreamGateway;
  readonly routes: RouteTable;
  readonly acting: Acting;
  readonly #server: Server;
  readonly #hanging: Set<ServerResponse>;
  readonly #faults: FaultPlan;
  readonly #fixture: EmulatorFixture;
  readonly #save: string | undefined;
  #faultConfig: EmulatorFaults = {};
  #port = 0;
  #host: string;
  #closed = false;

  /** @internal use `startEmulator`. */
  constructor(opts: EmulatorOptions) {
    this.#fixture = loadFixture(opts.fixture);
    this.#save = opts.save;
    this.#host = opts.host ?? '127.0.0.1';
    const seed = opts.seed ?? randomInt(2 ** 31);
    this.state = new EmulatorState(this.#fixture, {
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      seed,
      ...(opts.requestLogSize !== undefined ? { requestLogSize: opts.requestLogSize } : {}),
    });
    this.#faults = new FaultPlan(seed + 1);
    this.gateway = new StreamGateway({
      ...(opts.now ? { now: opts.now } : {}),
      ...opts.stream,
      authenticate: (id, secret) => this.state.checkAppSecret(id, secret),
      wsBase: () => `ws://${this.#publicHost()}:${this.#port}`,
    });
    this.acting = new Acting({
      state: this.state,
      gateway: this.gateway,
      origin: () => this.url,
      todoDoneEventType: opts.todoDoneEventType ?? 'todo_task_update',
    });
    this.routes = new RouteTable();
    registerRoutes(this.routes, { state: this.state, gateway: this.gateway, origin: () => this.url });
    const { server, hanging } = createEmulatorServer({
      state: this.state,
      routes: this.routes,
      gateway: this.gateway,
      faults: this.#faults,
      logRequests: opts.logRequests ?? true,
      origin: () => this.url,
      allowedHosts: opts.allowedHosts ?? [],
    });
    this.#server = server;
    this.#hanging = hanging;
    if (opts.initialFaults) this.setFaults(opts.initialFaults);
  }

  /** @internal */
  async listen(port: number): Promise<void> {
    this.#server.listen(port, this.#host);
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Origin serving both hosts, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://${this.#publicHost()}:${this.#port}`;
  }

  get savePath(): string | undefined {
    return this.#save;
  }

  /** A wildcard bind is reachable on loopback: hand that out in URLs (the open call's endpoint, webhooks). */
  #publicHost(): string {
    if (this.#host === '0.0.0.0' || this.#host === '::') return '127.0.0.1';
    return this.#host.includes(':') ? `[${this.#host}]` : this.#host;
  }

  get port(): number {
    return this.#port;
  }

  /**
   * The webhook URL of a custom robot (by name or token). Sign-secured robots get a fresh `timestamp` + `sign`
   * (docs/dingtalk.md §2.3) unless `sign: false`.
   */
  webhookUrl(robot: string, opts: { sign?: boolean; timestamp?: number } = {}): string {
    const r = this.state.robotsByName.get(robot) ?? this.state.robots.get(robot);
    if (!r) throw new Error(`unknown custom robot ${robot}`);
    let url = `${this.url}/robot/send?access_token=${r.token}`;
    if (r.security.secret !== undefined && opts.sign !== false) {
      const ts = String(opts.timestamp ?? this.state.now());
      const sign = createHmac('sha256', r.security.secret)
        .update(`${ts}\n${r.security.secret}`)
        .digest('base64');
      url += `&timestamp=${ts}&sign=${encodeURIComponent(sign)}`;
    }
    return url;
  }

  /** Replaces the fault plan (HTTP rules and Stream faults). `{}` clears every fault. */
  setFaults(f: EmulatorFaults): void {
    const err = validateRules(f.rules ?? []);
    if (err) throw new TypeError(err);
    this.#faultConfig = structuredClone(f);
    this.#faults.set(f.rules ?? [], f.seed);
    this.acting.faults = { ...(f.callbacks ?? {}) };
    this.gateway.setFaults({
      ...(f.stream ?? {}),
      ...(f.stream?.seed === undefined && f.seed !== undefined ? { seed: f.seed } : {}),
    });
  }

  faults(): EmulatorFaults {
    return structuredClone(this.#faultConfig);
  }

  faultLog(): FaultLogRecord[] {
    return [...this.state.faultLog];
  }

  /** Token requests per app and tokens issued (token-gate.ts: why both). */
  tokenStats(): TokenStats {
    return this.state.tokenGate.stats();
  }

  /** Makes every access token expire now, as if DingTalk had ended its lifetime (§1.2); returns how many. */
  expireTokens(): number {
    return this.state.expireTokens();
  }

  /** Holds the next `count` token requests unanswered; `whenHeld` resolves once one is. */
  holdTokens(count = 1): { whenHeld: Promise<void> } {
    this.state.tokenGate.hold(count);
    return { whenHeld: this.state.tokenGate.whenHeld() };
  }

  /** Answers the held token requests and stops holding; returns how many were held. */
  releaseTokens(): number {
    return this.state.tokenGate.release();
  }

  requests(filter: RequestFilter = {}): RequestRecord[] {
    return this.state.requestLog.filter(
      (r) =>
        (filter.route === undefined || r.route === filter.route || r.path === filter.route) &&
        (filter.since === undefined || r.seq > filter.since),
    );
  }

  messages(conversation?: string): MessageRecord[] {
    return conversation === undefined
      ? [...this.state.messages]
      : [...(this.state.messagesByConversation.get(conversation) ?? [])];
  }

  notices(userId?: string): NoticeRecord[] {
    return this.state.notices.filter((n) => userId === undefined || n.userId === userId);
  }

  todos(): TodoRecord[] {
    return [...this.state.todos.values()].filter((t) => !t.deleted);
  }

  postMessage(openConversationId: string, input: PostMessageInput): Promise<PostMessageResult> {
    return this.acting.postMessage(openConversationId, input);
  }

  /** A person writes to the app robot 1:1; the bot gets a CALLBACK with conversationType "1". */
  postDirect(userId: string, input: PostDirectInput): PostMessageResult {
    return this.acting.postDirect(userId, input);
  }

  /**
   * A 免登 code for `userId`, as `dd.requestAuthCode` gives a page inside DingTalk (docs/dingtalk.md §13.2): good
   * once, for 5 minutes (`limits.authCodeTtlMs`), for the app `appKey` (default: the org's first app).
   */
  authCode(userId: string, opts: { appKey?: string } = {}): string {
    if (!this.state.users.has(userId)) throw new ActingError(404, 'unknown user');
    const appKey = opts.appKey ?? this.state.org.apps[0]?.appKey;
    if (appKey === undefined || !this.state.apps.has(appKey)) throw new ActingError(404, 'unknown app');
    return this.state.signIn.issueCode('jsapi', userId, appKey).code;
  }

  /** A person reads a message (read status, §3.1). */
  markRead(seq: number, by: string): MessageRecord {
    return this.acting.markRead(seq, by);
  }

  /** A person opens a work notice (the send result's read list, §5.1). */
  readNotice(taskId: number, by: string): NoticeRecord {
    return this.acting.readNotice(taskId, by);
  }

  clickCard(
    outTrackId: string,
    input: ClickCardInput,
  ): Promise<{ messageId?: string; http?: CallbackPushResult }> {
    return this.acting.clickCard(outTrackId, input);
  }

  markTodoDone(
    taskId: string,
    by: string,
  ): Promise<{ task: TodoRecord; messageId?: string; http?: CallbackPushResult }> {
    return this.acting.markTodoDone(taskId, by);
  }

  fireEvent(input: FireEventInput): Promise<{ messageId?: string; http?: CallbackPushResult }> {
    return this.acting.fireEvent(input);
  }

  pushCallback(input: PushCallbackInput): Promise<CallbackPushResult> {
    return this.acting.pushHttpEvent(input);
  }

  /** Clears records, tokens, windows and faults; reloads the starting fixture (or the one given). */
  reset(fixture?: EmulatorFixture): void {
    this.state.reset(fixture ?? this.#fixture);
    this.setFaults({});
  }

  /** Writes org + records to `path` (default: the `save` option). */
  save(path?: string): void {
    const target = path ?? this.#save;
    if (target === undefined) throw new Error('no save path given');
    writeFileSync(target, `${JSON.stringify(this.state.snapshot(), null, 2)}\n`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#save !== undefined) this.save();
    for (const res of this.#hanging) res.destroy();
    await this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function loadFixture(f: EmulatorFixture | string | undefined): EmulatorFixture {
  if (f === undefined) return demoOrg();
  const value: unknown = typeof f === 'string' ? JSON.parse(readFileSync(f, 'utf8')) : structuredClone(f);
  const err = checkFixture(value);
  if (err) throw new TypeError(`emulator fixture: ${err}`);
  return value as EmulatorFixture;
}

/** Light structural check so a broken fixture fails at start with a reason, not later with a crash. */
export function checkFixture(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return 'not an object';
  const o = v as Record<string, unknown>;
  if (o['version'] !== 1) return 'version must be 1';
  const org = o['org'] as Record<string, unknown> | undefined;
  if (!org || typeof org !== 'object') return 'org is missing';
  if (typeof org['corpId'] !== 'string') return 'org.corpId must be a string';
  for (const k of ['apps', 'users', 'groups', 'customRobots'])
    if (!Array.isArray(org[k])) return `org.${k} must be an array`;
  for (const a of org['apps'] as unknown[]) {
    const x = a as Record<string, unknown>;
    if (
      typeof x['appKey'] !== 'string' ||
      typeof x['appSecret'] !== 'string' ||
      typeof x['agentId'] !== 'number'
    )
      return 'each app needs appKey, appSecret (strings) and agentId (number)';
    if (typeof x['robotCode'] !== 'string') x['robotCode'] = x['appKey'];
  }
  for (const u of org['users'] as unknown[]) {
    const x = u as Record<string, unknown>;
    if (typeof x['userId'] !== 'string' || typeof x['unionId'] !== 'string')
      return 'each user needs userId and unionId';
  }
  for (const g of org['groups'] as unknown[]) {
    const x = g as Record<string, unknown>;
    if (typeof x['openConversationId'] !== 'string' || !Array.isArray(x['members']))
      return 'each group needs openConversationId and members';
    if (!Array.isArray(x['robotCodes'])) x['robotCodes'] = [];
  }
  for (const r of org['customRobots'] as unknown[]) {
    const x = r as Record<string, unknown>;
    if (typeof x['token'] !== 'string' || typeof x['group'] !== 'string' || typeof x['security'] !== 'object')
      return 'each custom robot needs token, group and security';
  }
  return undefined;
}

/**
 * The gateways: `POST /hooks/<name>` in, outbox messages out (docs/gateways.md).
 *
 * The door (`fetch`), in the order a request meets it: the route by name (404) → its credentials in the headers
 * (401, before any body is read) → the body within the route's cap (413) → an HMAC over the raw bytes (401) → JSON
 * (415 / 400) → the payload's contract (400 naming the field) → rules → one transaction: the dedupe row and the
 * items (a repeat answers 200 `duplicate` and adds nothing) → 202. A store that cannot commit answers 503 with
 * Retry-After, so the sender (Alertmanager retries) tries again and nothing is lost. Every answer is counted in
 * `dingkit_hook_requests_total{route,result}` (an unknown name is counted as route `_unknown`: an attacker's
 * guesses must not mint series).
 *
 * The pump (`flush`) turns pending items into messages (flush.ts), one process at a time across the store (a
 * store lock), kicked after each accepted request and polled every `flushMs` (gated conversations and held
 * resolved alerts become due later).
 */

import { randomUUID } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { readFetchBody } from '../../callback/http-io.js';
import { ConfigError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import type { Registry } from '../../observe/metrics.js';
import { StoreLocks } from '../../store/locks.js';
import type { Store } from '../../store/open-store.js';
import type { HubConfig } from '../config.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { PeopleDirectory } from '../people.js';
import { DEFAULT_RETENTION } from '../retention.js';
import { storeFaultOf, storeFaultReason } from '../store-errors.js';
import type { StoreFaultSink } from '../store-faults.js';
import type { TaskService } from '../tasks/tasks.js';
import { ZonedTime } from '../zoned-time.js';
import { type AuthRefusal, bodyGate, headerGate } from './auth.js';
import { type GatewaysConfig, gatewaysSchema, type HookRoute } from './config.js';
import { flushConversation, type LoadedRoute } from './flush.js';
import { applyIssueTasks, TASK_TARGET, taskTarget } from './github-tasks.js';
import { HookStore, type NewItem, StaleFlush } from './hook-store.js';
import { HOOK_KINDS } from './kinds.js';
import { ALL_NAMES } from './mentions.js';
import { routeItem } from './rules.js';
import { HookTemplates, readTemplateDir, type TemplateLimits } from './templates.js';

const LOCK = 'hub.gateways';
/**
 * How long a flush round holds the lock. Short: a process killed mid-round leaves the lock behind, and every other
 * process waits this long before it flushes what was accepted (30 s here kept a restarted hub from sending for half a
 * minute). The lock only saves work; two rounds at once are still safe, since each flush is fenced (`StaleFlush`).
 */
const LOCK_TTL_MS = 5_000;

/** No `gateways` in the config: the schema's defaults (no routes). */
export const DEFAULT_GATEWAYS: GatewaysConfig = gatewaysSchema.parse(undefined);

export interface GatewaysDeps {
  config: HubConfig;
  store: Store;
  outbox: OutboxPort;
  people: PeopleDirectory;
  metrics: Registry;
  logger?: Logger | undefined;
  now?: (() => number) | undefined;
  faults?: StoreFaultSink | undefined;
  /** Where relative template directories are read from: the config file's directory. @default process.cwd() */
  baseDir?: string | undefined;
  templateLimits?: Partial<TemplateLimits> | undefined;
  /** Where GitHub issues become tasks (github-tasks.ts); absent, such items fail with a note. */
  tasks?: TaskService | undefined;
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-content-type-options': 'nosniff',
      ...headers,
    },
  });
}

function refusal(status: number, code: string, message: string, headers?: Record<string, string>): Response {
  return answer(status, { error: { code, message } }, headers);
}

const AUTH_MESSAGES: Record<AuthRefusal, string> = {
  missing_credentials: 'this hook needs its credentials (see the route auth in the hub config)',
  bad_credentials: 'the credentials do not match this hook',
  missing_signature: 'the request is not signed',
  bad_signature: 'the signature does not match the body',
  bad_timestamp: 'the signature timestamp is not a number of seconds',
  stale_timestamp: 'the signature timestamp is outside the accepted window (a replay?)',
};

export class Gateways {
  readonly routes = new Map<string, LoadedRoute>();
  /** `alias.target` → the route and the addresses that may use the alias without credentials. */
  readonly #aliases = new Map<string, { route: string; allow: BlockList }>();
  readonly hooks: HookStore;
  readonly #d: GatewaysDeps;
  readonly #cfg: GatewaysConfig;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #zone: ZonedTime;
  readonly #locks: StoreLocks;
  readonly #owner = randomUUID();
  /** GitHub login (lower case) → directory key (`people.<key>.github`, unique: config.ts). */
  readonly #logins = new Map<string, string>();
  readonly #requests;
  readonly #items;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #again = false;
  #stopped = false;

  constructor(d: GatewaysDeps) {
    this.#d = d;
    this.#cfg = d.config.gateways ?? DEFAULT_GATEWAYS;
    this.#now = d.now ?? Date.now;
    this.#logger = d.logger ?? silentLogger;
    this.#zone = new ZonedTime(d.config.timeZone);
    this.hooks = new HookStore(d.store);
    this.#locks = new StoreLocks(d.store, { now: this.#now });
    this.#requests = d.metrics.counter('dingkit_hook_requests_total', 'Hook requests by route and result');
    this.#items = d.metrics.counter(
      'dingkit_hook_items_total',
      'Hook items (alerts, events) by route and outcome (sent, digested, coalesced, unrouted, failed)',
    );
    for (const [key, p] of Object.entries(d.config.people)) {
      if (p.github !== undefined) this.#logins.set(p.github.toLowerCase(), key);
    }
    for (const route of this.#cfg.routes) {
      this.#check(route);
      const files = route.templates ? readTemplateDir(route.templates.dir, d.baseDir) : undefined;
      const { dir: _dir, ...use } = route.templates ?? { dir: '' };
      if (route.alias) {
        this.#aliases.set(route.alias.target, {
          route: route.name,
          allow: blockListOf(route.alias.allowFrom),
        });
      }
      this.routes.set(route.name, {
        route,
        templates: new HookTemplates({
          locale: route.locale ?? d.config.locale,
          files,
          use,
          limits: d.templateLimits,
        }),
      });
    }
  }

  /** Targets must exist when the hub starts: a typo found at the first alert is found too late. */
  #check(route: HookRoute): void {
    const all = [...route.rules.map((r) => r.targets), ...(route.targets ? [route.targets] : [])];
    for (const t of all) {
      for (const g of t.groups) {
        if (!this.#d.config.groups[g]) {
          throw new ConfigError(`gateways.routes.${route.name}: no group named "${g}" in the config`);
        }
      }
      for (const p of t.people) {
        if (this.#d.people.keyOf(p) === undefined) {
          throw new ConfigError(`gateways.routes.${route.name}: no person named "${p}" in the config`);
        }
      }
    }
    for (const p of route.mentions.always) {
      if (!ALL_NAMES.has(p.toLowerCase()) && this.#d.people.keyOf(p) === undefined) {
        throw new ConfigError(
          `gateways.routes.${route.name}.mentions.always: no person named "${p}" in the config`,
        );
      }
    }
  }

  get enabled(): boolean {
    return this.routes.size > 0;
  }

  /** The route's door. `name` is the path segment after `/hooks/`. */
  async fetch(name: string, req: Request): Promise<Response> {
    const loaded = this.routes.get(name);
    const label = loaded ? name : '_unknown';
    const res = await this.#handle(loaded, req, false);
    this.#requests.inc({ route: label, result: res.result });
    return res.response;
  }

  /**
   * prometheus-webhook-dingtalk's door, `POST /dingtalk/<target>/send`, for a route with `alias.target`. The same
   * door as `/hooks/<name>`, except that a caller whose TCP peer address is in the alias's `allowFrom` needs no
   * credentials (old Alertmanager configs send none). `peer` is the socket's address, never a forwarded header
   * (anyone can write one); unknown (in-process requests), it is nobody's.
   */
  async fetchAlias(target: string, req: Request, peer: string | undefined): Promise<Response> {
    const alias = this.#aliases.get(target);
    const loaded = alias ? this.routes.get(alias.route) : undefined;
    const trusted = alias !== undefined && peer !== undefined && peerAllowed(alias.allow, peer);
    const res = await this.#handle(loaded, req, trusted);
    this.#requests.inc({ route: loaded?.route.name ?? '_unknown', result: res.result });
    return res.response;
  }

  async #handle(
    loaded: LoadedRoute | undefined,
    req: Request,
    /** An alias caller from an allowed address: the route's credentials are not asked for. */
    trusted: boolean,
  ): Promise<{ result: string; response: Response }> {
    const out = (result: string, response: Response) => ({ result, response });
    if (!loaded) {
      await req.body?.cancel().catch(() => {});
      return out('not_found', refusal(404, 'unknown_hook', 'no hook route of this name'));
    }
    const { route } = loaded;
    const header = (n: string) => req.headers.get(n) ?? undefined;
    const early = trusted ? undefined : headerGate(route.auth, header);
    if (early) {
      await req.body?.cancel().catch(() => {});
      const challenge: Record<string, string> =
        route.auth.type === 'bearer'
          ? { 'www-authenticate': route.auth.scheme }
          : route.auth.type === 'basic'
            ? { 'www-authenticate': 'Basic realm="dingkit hooks"' }
            : {};
      return out('unauthorized', refusal(401, early, AUTH_MESSAGES[early], challenge));
    }
    const raw = await readFetchBody(req, route.maxBodyBytes);
    if (raw === undefined) {
      return out(
        'too_large',
        refusal(413, 'payload_too_large', `this hook accepts bodies up to ${route.maxBodyBytes} bytes`),
      );
    }
    const late = trusted ? undefined : bodyGate(route.auth, header, raw, this.#now());
    if (late) return out('unauthorized', refusal(401, late, AUTH_MESSAGES[late]));
    if (!/^application\/json\s*(;|$)/i.test(header('content-type') ?? '')) {
      return out('invalid', refusal(415, 'unsupported_media_type', 'send the body as application/json'));
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8').replace(/^\uFEFF/, ''));
    } catch {
      return out('invalid', refusal(400, 'invalid_json', 'the body is not valid JSON'));
    }
    const kind = HOOK_KINDS[route.kind].parse({
      body,
      raw,
      header,
      route,
      githubPerson: (login) => this.#logins.get(login.toLowerCase()),
      locale: this.#d.config.locale,
      now: this.#now(),
      // The dedupe rows live as long as the retention keeps them (hook-store.ts purge).
      maxAgeMs: (this.#d.config.retention ?? DEFAULT_RETENTION).inboxMs,
    });
    if (!kind.ok) {
      const { status = 400, ...error } = kind.refusal;
      return out('invalid', answer(status, { error }));
    }
    const parsed = kind.parsed;
    if (parsed.ignored !== undefined && parsed.items.length === 0) {
      // GitHub's ping, and events or actions this route does not turn into anything: nothing stored or sent.
      return out('ignored', answer(200, { accepted: true, ignored: true, reason: parsed.ignored }));
    }
    const now = this.#now();
    const rows: NewItem[] = [];
    let unrouted = 0;
    for (const item of parsed.items) {
      const to = routeItem(route, item);
      if (item.task) {
        // One task per issue, not one per conversation: announced in the first group the rules give it.
        const group = to.find((r) => r.conversation.group !== undefined)?.conversation.group;
        rows.push({ target: taskTarget(group), item, mentionAll: false, dueAt: now });
        continue;
      }
      if (to.length === 0) unrouted++;
      const dueAt = item.kind === 'resolved' ? now + this.#cfg.flapWindowMs : now;
      for (const r of to) rows.push({ target: r.key, item, mentionAll: r.mentionAll, dueAt });
    }
    let verdict: 'accepted' | 'duplicate';
    try {
      verdict = await this.hooks.accept(route.name, parsed.dedupKey, rows, now);
    } catch (e) {
      const fault = storeFaultOf(e);
      if (fault === undefined) throw e;
      this.#d.faults?.report(e, 'hooks');
      return out(
        'unavailable',
        refusal(503, 'store_unavailable', `${storeFaultReason(fault)}; retry shortly`, {
          'retry-after': '5',
        }),
      );
    }
    if (verdict === 'duplicate') {
      return out('duplicate', answer(200, { accepted: true, duplicate: true, items: 0 }));
    }
    if (unrouted > 0) this.#items.inc({ route: route.name, outcome: 'unrouted' }, unrouted);
    this.kick();
    return out(
      'accepted',
      answer(202, {
        accepted: true,
        duplicate: false,
        items: parsed.items.length,
        routed: rows.length,
        unrouted,
      }),
    );
  }

  /** Flush now (after an accepted request); coalesces with a round already running. */
  kick(): void {
    if (!this.#stopped) void this.flush();
  }

  /** Rounds until nothing more can move now; returns how many items moved. */
  flush(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let total = 0;
      do {
        this.#again = false;
        const moved = await this.#round();
        total += moved;
        if (moved > 0) this.#again = true;
      } while (this.#again && !this.#stopped);
      return total;
    })()
      .catch((e: unknown) => {
        if (!this.#d.faults?.report(e, 'hooks')) {
          this.#logger.warn({ err: (e as Error).message }, 'hook flush failed');
        }
        return 0;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #round(): Promise<number> {
    const now = this.#now();
    const due = await this.hooks.dueTargets(now);
    if (due.length === 0) return 0;
    if (!(await this.#locks.tryAcquire(LOCK, this.#owner, LOCK_TTL_MS))) return 0;
    let moved = 0;
    try {
      for (const t of due) {
        if (this.#stopped) break;
        try {
          if (t.target.startsWith(TASK_TARGET)) {
            moved += await applyIssueTasks(
              {
                hooks: this.hooks,
                tasks: this.#d.tasks,
                logger: this.#logger,
                items: this.#items,
                now: this.#now,
              },
              t.route,
              t.target,
            );
            continue;
          }
          moved += await flushConversation(
            {
              config: this.#d.config,
              hooks: this.hooks,
              outbox: this.#d.outbox,
              people: this.#d.people,
              routes: this.routes,
              zone: this.#zone,
              logger: this.#logger,
              items: this.#items,
              flapWindowMs: this.#cfg.flapWindowMs,
              maxInFlight: this.#cfg.maxInFlight,
              budgetShare: this.#cfg.budgetShare,
            },
            t.route,
            t.target,
            now,
          );
        } catch (e) {
          if (!(e instanceof StaleFlush)) throw e;
        }
      }
    } finally {
      await this.#locks.release(LOCK, this.#owner).catch(() => {});
    }
    return moved;
  }

  start(): void {
    if (!this.enabled || this.#timer) return;
    this.#timer = setInterval(() => this.kick(), this.#cfg.flushMs);
    this.#timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

/** The alias's `allowFrom` (addresses and CIDR ranges, validated by the config schema) as Node's address matcher. */
function blockListOf(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) {
    const [addr = '', bits] = r.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  return list;
}

/** Whether the socket's peer is allowed; an IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`. */
export function peerAllowed(list: BlockList, peer: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer);
  const addr = mapped ? mapped[1]! : peer;
  const family = isIP(addr);
  if (family === 0) return false;
  return list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
}

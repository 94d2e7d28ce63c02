/**
 * The hub's HTTP API as a Hono app. Everything it knows of the hub is the `HubService` contract
 * (src/hub/service.ts), so it runs the same over the real hub and over a test double.
 *
 * Order of the layers, outermost first: request id + access log + metrics → body-size limit → per-route auth
 * guard → zod contract → hub. Errors are answered as `{ error: { code, message } }` (api-error.ts); an unexpected
 * failure is logged redacted and answered 500 with the request id, never with its message.
 */

import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { hostAllowed } from '../core/allowed-hosts.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { Redactor } from '../core/redact.js';
import { CALLBACK_PATHS, type CallbackName, type HubCallbacks } from '../hub/inbound/http.js';
import type { HubService } from '../hub/service.js';
import { isStoreUnavailable } from '../hub/store-errors.js';
import { type StoreFaultSink, StoreFaults } from '../hub/store-faults.js';
import { EventBus } from '../observe/events.js';
import { Registry } from '../observe/metrics.js';
import { ApiError, errorBody, toResponse } from './api-error.js';
import type { ApiTokenStore } from './api-tokens.js';
import { type ApiTokenVerifier, requireScope, verdictOf } from './auth.js';
import { DASHBOARD_CSP, dashboardHtml } from './dashboard/page.js';
import { jsonBodyLimit } from './http-input.js';
import { buildOpenApi } from './openapi.js';
import { peopleAppRoutes } from './people/routes.js';
import type { PeopleEnv } from './people/session.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventRoutes } from './routes/events.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { hookRoutes } from './routes/hooks.js';
import { messageRoutes } from './routes/messages.js';
import { peopleRoutes } from './routes/people.js';
import type { ApiEnv, RouteDeps } from './routes/route-deps.js';
import { taskRoutes } from './routes/tasks.js';
import { type SseOptions, SseStreams } from './sse.js';

export interface ApiAppOptions {
  hub: HubService;
  /** Checks bearer tokens; StoreTokenVerifier over the store's token table in production. */
  tokens: ApiTokenVerifier;
  /**
   * Where the people's app keeps the short-lived dashboard tokens it hands its operators (the same table `tokens`
   * reads); absent, an operator signed in to the app pastes a token like anyone.
   */
  operatorTokens?: ApiTokenStore | undefined;
  /** The hub's change feed; a private one is made when absent (then `/v1/events` stays quiet). */
  events?: EventBus;
  /** The hub's registry; HTTP metrics are added to it. */
  metrics?: Registry;
  logger?: Logger;
  /** Registered secrets are scrubbed from every line this app logs. */
  redactor?: Redactor;
  /**
   * Largest JSON body (config `server.bodyLimitBytes`).
   * @default 1_048_576
   */
  bodyLimitBytes?: number;
  /**
   * Largest uploaded file: DingTalk's media cap for files (docs/dingtalk.md §6.1).
   * @default 20_971_520
   */
  fileLimitBytes?: number;
  /**
   * Uploads handled at once (config `files.maxConcurrentUploads`); one more is answered 429 with Retry-After.
   * Each in-flight upload holds a temporary file, not memory.
   * @default 16
   */
  maxConcurrentUploads?: number;
  sse?: SseOptions;
  version?: string;
  /**
   * Where store outages are reported (the hub's `storeFaults`, so a burst is logged once for the whole process).
   * @default a reporter of this app's own
   */
  storeFaults?: StoreFaultSink;
  /**
   * Host names, besides loopback names and IP literals, this API answers to (config `server.allowedHosts`); any
   * other `Host` header is refused 403 as a DNS-rebinding attempt (src/core/allowed-hosts.ts).
   * @default []
   * @example ['hub.example.com']
   */
  allowedHosts?: readonly string[];
  /** Serve the live dashboard at `/`. @default true */
  dashboard?: boolean;
  /**
   * DingTalk's HTTP callbacks (the hub's `callbacks`, `inbound.mode` http or both): each mounted at its path in
   * `CALLBACK_PATHS` (`POST /callbacks/robot`, `/callbacks/events`, `/callbacks/card`) without an API token, as DingTalk signs
   * them instead (src/hub/inbound/http.ts). Absent: the routes do not exist (404).
   */
  callbacks?: HubCallbacks;
  /**
   * The hook routes (the hub's `gateways`): `POST /hooks/<name>`, each with its own credentials instead of an API
   * token, and its own body cap (src/hub/gateways/gateways.ts). Absent: no such routes (404).
   */
  hooks?:
    | {
        fetch(name: string, req: Request): Promise<Response>;
        /** `POST /dingtalk/<target>/send` (prometheus-webhook-dingtalk's path), with the socket's peer address. */
        fetchAlias?(target: string, req: Request, peer: string | undefined): Promise<Response>;
      }
    | undefined;
}

export interface ApiApp {
  app: Hono<ApiEnv>;
  /** Open SSE streams; `closeAll()` on shutdown. */
  streams: SseStreams;
}

export function createApp(o: ApiAppOptions): ApiApp {
  const app = new Hono<ApiEnv>();
  const logger = o.logger ?? silentLogger;
  const redactor = o.redactor ?? new Redactor();
  const metrics = o.metrics ?? new Registry();
  const events = o.events ?? new EventBus();
  const streams = new SseStreams();
  const bodyLimitBytes = o.bodyLimitBytes ?? 1_048_576;
  const version = o.version ?? '0.0.0';
  const requests = metrics.counter('dingkit_http_requests_total', 'HTTP API requests by route and status');
  const latency = metrics.histogram('dingkit_http_request_duration_seconds', 'HTTP API request latency');
  const storeFaults = o.storeFaults ?? new StoreFaults({ logger });

  app.use('*', async (c, next) => {
    const rid = randomUUID();
    const started = performance.now();
    c.header('x-request-id', rid);
    c.header('x-content-type-options', 'nosniff');
    await next();
    const matched = routePath(c, -1);
    const route = matched === '*' || matched === '/*' || matched === '' ? 'unmatched' : matched;
    const status = String(c.res.status);
    requests.inc({ method: c.req.method, route, status });
    if (route !== '/v1/events') latency.observe((performance.now() - started) / 1000, { route });
    // Never the query string (it may carry ?access_token= for EventSource) or headers.
    logger.info(
      { rid, method: c.req.method, route, status: c.res.status, ms: Math.round(performance.now() - started) },
      'http',
    );
  });

  // Before anything reads a token or a body: a page rebound to loopback gets nothing, not even /v1/health.
  // DingTalk's callbacks are exempt: they arrive under whatever public name DingTalk was given, and their signature,
  // not the origin, is their gate (a rebound page reaches them no further than any host on the network does).
  // The hooks likewise: monitoring systems post to the hub's public name, and each route's own secret is the gate.
  // prometheus-webhook-dingtalk's old paths (`/dingtalk/<target>/send`) are hook routes under another name.
  const exempt = (path: string) =>
    path.startsWith('/callbacks/') || path.startsWith('/hooks/') || path.startsWith('/dingtalk/');
  app.use('*', async (c, next) => {
    if (!exempt(c.req.path) && !hostAllowed(c.req.header('host'), o.allowedHosts)) {
      return c.json(errorBody('host_not_allowed', 'this Host is not served here (server.allowedHosts)'), 403);
    }
    return next();
  });

  const jsonLimit = jsonBodyLimit(
    bodyLimitBytes,
    () => new ApiError(413, 'payload_too_large', `request bodies are limited to ${bodyLimitBytes} bytes`),
  );
  // Uploads have their own, larger cap, applied after the token check (routes/files.ts); DingTalk's callbacks are
  // read by their receivers, which cap the body themselves (1 MiB, 413 beyond it); each hook route has its own cap.
  app.use('*', (c, next) => (c.req.path === '/v1/files' || exempt(c.req.path) ? next() : jsonLimit(c, next)));

  app.onError((e, c) => {
    if (e instanceof HTTPException && e.status < 500) {
      return c.json(errorBody('bad_request', e.message || 'bad request'), e.status);
    }
    // A store outage is logged once per burst by the reporter, not once per request.
    if (storeFaults.report(e, 'api')) return toResponse(c, e);
    const log = (err: unknown) => {
      const text = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
      logger.error(
        { rid: c.res.headers.get('x-request-id'), route: routePath(c, -1), err: redactor.redact(text) },
        'request failed',
      );
    };
    const res = toResponse(c, e, log, (t) => redactor.redact(t));
    if (res.status !== 500) return res;
    // Nothing about the failure leaves the server, except the id to quote when reporting it.
    const rid = c.res.headers.get('x-request-id') ?? '';
    return c.json(errorBody('internal', `internal error (request id ${rid})`), 500);
  });
  app.notFound((c) =>
    c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path.slice(0, 200)}`), 404),
  );

  // A token store that cannot answer (database down) is the server's problem, not a bad token: 503, logged once
  // per failure, never a 500 with internals and never a 401 that would make clients drop a valid token.
  const unavailable = (e: unknown) => {
    // The store is out: answered 503 store_unavailable like every other route (app.onError).
    if (isStoreUnavailable(e)) return e;
    logger.error({ err: redactor.redact(String((e as Error)?.message ?? e)) }, 'token check failed');
    return new ApiError(503, 'unavailable', 'the API token cannot be checked right now; retry shortly');
  };
  const tokens: ApiTokenVerifier = {
    async verify(raw) {
      try {
        return await o.tokens.verify(raw);
      } catch (e) {
        throw unavailable(e);
      }
    },
    async check(raw, opts) {
      try {
        return await verdictOf(o.tokens, raw, opts?.fresh === true);
      } catch (e) {
        throw unavailable(e);
      }
    },
  };
  const deps: RouteDeps = {
    hub: o.hub,
    guard: (scope, g) => requireScope(tokens, scope, g),
    events,
    metrics,
    streams,
    bodyLimitBytes,
    fileLimitBytes: o.fileLimitBytes ?? 20 * 1024 * 1024,
    maxConcurrentUploads: o.maxConcurrentUploads ?? 16,
  };
  // No token guard: DingTalk cannot send one. Its signature (and the replay memory) is checked by the receiver.
  // Every route the hub built, at its path: a new callback route (HTTP_ROUTES) needs nothing here.
  for (const name of Object.keys(CALLBACK_PATHS) as CallbackName[]) {
    const handler = o.callbacks?.[name];
    if (handler) app.post(CALLBACK_PATHS[name], (c) => handler.fetch(c.req.raw));
  }
  if (o.hooks) {
    const hooks = o.hooks;
    app.post('/hooks/:name', (c) => hooks.fetch(c.req.param('name'), c.req.raw));
    const alias = hooks.fetchAlias?.bind(hooks);
    if (alias) {
      // The TCP peer from the Node server (hono/node-server's env), never X-Forwarded-For: a header is anyone's to write.
      const peer = (env: unknown) =>
        (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
          ?.remoteAddress;
      app.post('/dingtalk/:target/send', (c) => alias(c.req.param('target'), c.req.raw, peer(c.env)));
    }
  }
  healthRoutes(app, deps);
  messageRoutes(app, deps);
  taskRoutes(app, deps);
  fileRoutes(app, deps);
  deliveryRoutes(app, deps);
  peopleRoutes(app, deps);
  hookRoutes(app, deps);
  eventRoutes(app, deps, o.sse ?? {});

  // The people's web app (src/server/people/): sessions from DingTalk sign-in, never an API token.
  if (o.hub.peopleApp) {
    const people = new Hono<PeopleEnv>();
    peopleAppRoutes(people, {
      hub: o.hub,
      app: o.hub.peopleApp,
      events,
      streams,
      sse: o.sse ?? {},
      operatorTokens: o.operatorTokens,
    });
    app.route('/', people as unknown as Hono<ApiEnv>);
  }

  const openapi = JSON.stringify(
    buildOpenApi(version, {
      callbacks: { robot: !!o.callbacks?.robot, events: !!o.callbacks?.events, card: !!o.callbacks?.card },
      hooks: !!o.hooks,
    }),
  );
  // "Every route but health requires a token": the contract is read-scoped like the data it describes.
  app.get('/openapi.json', deps.guard('read'), (c) =>
    c.body(openapi, 200, { 'content-type': 'application/json; charset=utf-8' }),
  );

  if (o.dashboard !== false) {
    const page = dashboardHtml(version);
    app.get('/', (c) =>
      c.html(page, 200, {
        // Its one script and one style by hash, nothing else inline; the page talks only to this API.
        'content-security-policy': DASHBOARD_CSP,
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      }),
    );
  }

  return { app, streams };
}

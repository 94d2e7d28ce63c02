/**
 * The hub runtime: `startHub({ config })` wires the store, the outbox and its dispatcher, the DingTalk port, the
 * services and the receivers `inbound.mode` asks for (Stream, HTTP callbacks) into one `RunningHub`, which implements the service contract (service.ts)
 * that the HTTP API and the CLI call. Demo mode (no DingTalk credentials) is its caller's decision: `dingkit serve`
 * starts the built-in emulator, derives the config from the emulator's org and hands both in (src/cli/launch-hub.ts);
 * the hub only uses the emulator's URL and never starts or closes one.
 *
 * Signals are not handled here: the CLI's `serve` owns SIGTERM and calls `stop()`, which stops taking new work
 * (Stream, scheduler, inbox), lets the dispatcher finish or release what is in flight, and closes the store.
 */

import type { SeenStore } from '../callback/replay-guard.js';
import { ConfigError, ValidationError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { Redactor } from '../core/redact.js';
import { assertStorableText } from '../core/text.js';
import { EventBus } from '../observe/events.js';
import { Registry } from '../observe/metrics.js';
import { openStore, type Store } from '../store/open-store.js';
import { StoreSeenStore } from '../store/seen-store.js';
import type { StreamClient } from '../stream/client.js';
import type { StreamClientOptions } from '../stream/options.js';
import {
  type HubConfig,
  mayCreateDatabase,
  sendTimeoutOf,
  sendTimeoutProblem,
  usesEmulator,
} from './config.js';
import { readEvidence } from './delivery/evidence.js';
import { Outbox } from './delivery/outbox.js';
import { createOutboxPort } from './delivery/outbox-adapter.js';
import type { OutboxPort } from './delivery/outbox-port.js';
import { watchParked } from './delivery/parked-metrics.js';
import { RESOLVE_ACTIONS, resolveParked } from './delivery/resolve.js';
import { createSender } from './delivery/sender.js';
import { startDelivery } from './delivery/start.js';
import { createDingTalkAdapter } from './dingtalk/adapter.js';
import type { DingTalkPort } from './dingtalk/port.js';
import { FileService } from './files/files.js';
import { Gateways } from './gateways/gateways.js';
import { HookOverview } from './gateways/overview.js';
import { checkTokenConfig, hubTokenStore } from './hub-tokens.js';
import { buildReceivers, type ReceiverSet } from './inbound/build-receivers.js';
import { DEFAULT_INBOUND, type HubCallbacks } from './inbound/http.js';
import { InboundService } from './inbound/inbound.js';
import { Inbox } from './inbound/inbox.js';
import type { Receiver } from './inbound/receiver.js';
import type { StreamReceiver } from './inbound/stream-receiver.js';
import { defaultAppName } from './messages/plan.js';
import { MessageService } from './messages/send.js';
import { PeopleDirectory } from './people.js';
import { PeopleApp } from './people-app.js';
import { ResultChecker } from './results/checker.js';
import { deliveryDetail, listWithRecipients } from './results/view.js';
import { DEFAULT_RETENTION, type PurgeRound, Retention } from './retention.js';
import type {
  Actor,
  Delivery,
  DeliveryStatus,
  FileShare,
  FileShareInput,
  HealthReport,
  HubService,
  Person,
  ResolveAction,
  SendMessageInput,
  SendResult,
  Task,
  TaskFilter,
  TaskInput,
  TaskPatch,
} from './service.js';
import { storeErrorReporter } from './store-errors.js';
import { StoreFaults } from './store-faults.js';
import { type AccessRules, resolveAccessRules } from './tasks/access.js';
import { CardClicks } from './tasks/card-clicks.js';
import { TaskCards } from './tasks/cards.js';
import { TaskScheduler } from './tasks/scheduler.js';
import { TaskService } from './tasks/tasks.js';
import { TodoPoller } from './tasks/todo-poller.js';
import { ZonedTime } from './zoned-time.js';

export const HUB_VERSION = '0.1.0';

/**
 * The DingTalk stand-in a demo-mode hub runs against, started and closed by the hub's caller. The hub needs only
 * its URL; the type parameter lets the caller read back what it handed in (`hub.emulator.messages(...)`).
 */
export interface HubEmulator {
  /** Its origin: the config's API bases point here, and its session webhooks are accepted. */
  readonly url: string;
}

export interface StartHubOptions<E extends HubEmulator = HubEmulator> {
  /** With no DingTalk credentials (`usesEmulator`), the config derived from the emulator's org. */
  config: HubConfig;
  /** pino-compatible. @default silent */
  logger?: Logger | undefined;
  /** Clock (epoch ms) for tasks, schedules and the dispatcher. @default Date.now */
  now?: () => number;
  /** A store opened by the caller (tests share one); otherwise `config.database.url` is opened and owned. */
  store?: Store | undefined;
  /**
   * The running emulator of demo mode; required when the config has no DingTalk credentials (`usesEmulator`).
   * Its caller closes it after `stop()`.
   */
  emulator?: E | undefined;
  /** Extra StreamClient options (timings in tests). */
  stream?: Partial<StreamClientOptions> | undefined;
  /** Start the Stream receiver. @default true when an app is configured */
  receive?: boolean | undefined;
  /** Directory relative paths of the config (hook template directories) are read from. @default process.cwd() */
  configDir?: string | undefined;
  /** Base URL of the hub's HTTP API, for Todo detail links; the CLI sets it once it listens. */
  publicUrl?: string | undefined;
  /** EVENT types that report a Todo change (unverified name). @default ['todo_task_update'] */
  todoEventTypes?: readonly string[] | undefined;
  /** Inbox poll period (new pushes are handled at once; this catches retries and restarts). @default 500 */
  inboxPollMs?: number | undefined;
  /**
   * How long an inbox entry being handled is leased to this process: after a crash, another process takes it over
   * once the lease runs out (tests scale it down). @default 30_000
   */
  inboxLeaseMs?: number | undefined;
  /** In demo mode, how long the start waits for the first Stream connection. @default 10_000 */
  streamConnectTimeoutMs?: number | undefined;
  /** @internal Mutation twin of "ack only after commit", for tests (see InboundDeps); never in production. */
  unsafeAckBeforeCommit?: boolean | undefined;
  /**
   * @internal Replay memory of the HTTP callback routes, for tests' twins only (`false`: none; a `MemorySeenStore`:
   * one per process). Production always uses the store's `kv` table, shared by every hub process.
   */
  callbackReplay?: SeenStore | false | undefined;
}

export interface RunningHub<E extends HubEmulator = HubEmulator> extends HubService {
  readonly config: HubConfig;
  readonly events: EventBus;
  readonly metrics: Registry;
  readonly store: Store;
  /** Store outages: reported here once per burst; `check()` is the health probe (docs/hub.md "Store errors"). */
  readonly storeFaults: StoreFaults;
  /** The emulator it runs against in demo mode, as handed in. */
  readonly emulator: E | undefined;
  /** The Stream receiver's client, when running (`inbound.mode` stream or both). */
  readonly stream: StreamClient | undefined;
  /** Every receiver `inbound.mode` asked for (receiver.ts), in start order. */
  readonly receivers: readonly Receiver[];
  /** The hook routes (`gateways.routes`, docs/gateways.md), for the API server to mount; absent when none. */
  readonly gateways: Gateways | undefined;
  /** The HTTP callback receivers (`inbound.mode` http or both), for the API server to mount. */
  readonly callbacks: HubCallbacks | undefined;
  readonly inbox: Inbox;
  readonly scheduler: TaskScheduler;
  /** Reads unfinished tasks' Todos when `tasks.todoPollMs` is set (the Todo event's name is unverified). */
  readonly todoPoller: TodoPoller;
  /** The people's web app's sessions and sign-in (src/hub/people-app.ts). */
  readonly peopleApp: PeopleApp;
  /** Asks DingTalk what became of sent notices and app-robot messages (docs/hub.md "Send results"). */
  readonly results: ResultChecker;
  /**
   * Sets the base URL used in Todo links (the CLI calls it once the HTTP API listens); ignored when the config
   * names `publicUrl`.
   */
  setPublicUrl(url: string): void;
  /** Handles due inbox entries now (tests; the hub also does it on its own). */
  drainInbox(): Promise<number>;
  /** One retention round now (`ran: false` when another process holds the purge lock this period). */
  purge(): Promise<PurgeRound>;
  /** Graceful: stop receiving, finish or release in-flight sends, close the store it owns. */
  stop(): Promise<void>;
}

export async function startHub<E extends HubEmulator = HubEmulator>(
  o: StartHubOptions<E>,
): Promise<RunningHub<E>> {
  const logger = o.logger ?? silentLogger;
  const now = o.now ?? Date.now;
  const config = o.config;
  const emulator = o.emulator;
  // A config built in code skips parseConfig's checks; this one guards against duplicate sends.
  const timeoutProblem = sendTimeoutProblem(config.dispatcher);
  if (timeoutProblem) throw new ConfigError(`dispatcher.sendTimeoutMs: ${timeoutProblem}`);
  // Before the store opens: a lock shorter than a token call would let two processes fetch (hub-tokens.ts).
  checkTokenConfig(config, sendTimeoutOf(config.dispatcher));
  if (usesEmulator(config) && !emulator) {
    throw new ConfigError(
      'no DingTalk credentials configured (emulator.mode): start the emulator and pass it as `emulator`, with the config derived from its org (dingkit serve does)',
    );
  }
  // In demo mode the caller that started the emulator has said so in the first log line.
  if (!emulator) {
    logger.info(
      { apps: Object.keys(config.apps), robots: Object.keys(config.robots) },
      'dingkit hub: running against DingTalk',
    );
  }

  const events = new EventBus({ now });
  const metrics = new Registry();
  // Hub-level series from the change feed: one place, so every path that publishes is counted.
  const changes = metrics.counter(
    'dingkit_hub_changes_total',
    'Hub changes by type (task.*, message.*, file.*, ...)',
  );
  events.subscribe((e) => {
    if (!e.type.startsWith('delivery')) changes.inc({ type: e.type });
  });
  // The evidence shows stored payloads: any configured secret quoted in one is replaced (payloads name robots and
  // apps, never carry their credentials, jobs.ts; this is the second line).
  const secrets = new Redactor();
  for (const app of Object.values(config.apps)) secrets.add(app.appSecret);
  for (const robot of Object.values(config.robots)) {
    secrets.add(robot.secret);
    secrets.add(robot.webhook);
    secrets.add(/access_token=([^&\s]+)/.exec(robot.webhook)?.[1]);
  }
  // Per process: with shared tokens (docs/hub.md "Tokens") the sum over all processes is one per token lifetime.
  const tokenFetches = metrics.counter(
    'dingkit_token_fetches_total',
    'App access tokens fetched from DingTalk by this process, by app (its name in the config)',
  );
  const storeFaults = new StoreFaults({ logger, metrics });
  const ownsStore = o.store === undefined;
  const store =
    o.store ??
    (await openStore({
      url: config.database.url,
      ...(config.database.schema ? { schema: config.database.schema } : {}),
      createDirs: mayCreateDatabase(config),
      onError: storeErrorReporter({ logger, metrics }),
    }));
  storeFaults.attach(store);
  // The configured address wins: it is the one DingTalk and phones reach (a proxy's), not the one we listen on.
  let publicUrl = config.publicUrl ?? o.publicUrl ?? `http://${config.server.host}:${config.server.port}`;

  const dingtalk: DingTalkPort = createDingTalkAdapter({
    config,
    logger,
    now,
    timeoutMs: sendTimeoutOf(config.dispatcher),
    tokenStore: hubTokenStore(config, store, sendTimeoutOf(config.dispatcher), now),
    onTokenFetch: (app) => tokenFetches.inc({ app }),
  });
  const storeOutbox = new Outbox(store, { now, onEnqueued: () => delivery?.notify() });
  const outbox: OutboxPort = createOutboxPort(storeOutbox);
  const people = new PeopleDirectory({ config, db: store.db, dingtalk, now });
  let access: AccessRules;
  try {
    // In demo mode the people and groups the names refer to come from the emulator's org (the derived config).
    access = resolveAccessRules(
      config.tasks.access,
      (n) => people.keyOf(n),
      (g) => config.groups[g] !== undefined,
    );
    // A lead nobody can find would be skipped at every escalation: refused at start instead.
    for (const n of config.tasks.escalationLeads) {
      if (people.keyOf(n) === undefined) {
        throw new ConfigError(`tasks.escalationLeads: no person "${n}" under people`);
      }
    }
  } catch (e) {
    if (ownsStore) await store.close();
    throw e;
  }
  // Task cards in app-robot groups (tasks/cards.ts): only when a template is known (the demo has one).
  const cards =
    config.tasks.cards?.enabled && config.tasks.cards.templateId !== undefined
      ? new TaskCards({ config, zone: new ZonedTime(config.timeZone), publicUrl: () => publicUrl, now })
      : undefined;
  const tasks = new TaskService({
    config,
    store,
    outbox,
    people,
    events,
    now,
    publicUrl: () => publicUrl,
    access,
    cards,
  });
  const cardClicks =
    cards &&
    new CardClicks({
      config,
      tasks,
      cards,
      people,
      outbox,
      events,
      logger,
      clicks: metrics.counter(
        'dingkit_task_card_clicks_total',
        'Task-card clicks by result and refusal reason',
      ),
    });
  const peopleApp = new PeopleApp({
    config,
    store,
    people,
    dingtalk,
    tasks,
    access,
    now,
    publicUrl: () => publicUrl,
    emulatorUrl: emulator?.url,
  });
  const messages = new MessageService({ config, outbox, people, events });
  const files = new FileService({ config, store, outbox, people, dingtalk, events, now });
  const scheduler = new TaskScheduler({
    config,
    store,
    outbox,
    people,
    dingtalk,
    events,
    logger,
    now,
    faults: storeFaults,
  });
  let gateways: Gateways | undefined;
  try {
    const g = new Gateways({
      config,
      store,
      outbox,
      people,
      metrics,
      logger,
      now,
      faults: storeFaults,
      baseDir: o.configDir,
      tasks,
    });
    gateways = g.enabled ? g : undefined;
  } catch (e) {
    if (ownsStore) await store.close();
    throw e;
  }
  const inbox = new Inbox(store, { now, leaseMs: o.inboxLeaseMs });
  const inbound = new InboundService({
    config,
    inbox,
    tasks,
    people,
    outbox,
    events,
    logger,
    now,
    todoEventTypes: o.todoEventTypes ?? ['todo_task_update'],
    cardClicks,
    received: metrics.counter(
      'dingkit_inbound_total',
      'Inbound pushes (Stream and HTTP callbacks) committed, by kind and result',
    ),
    refused: metrics.counter(
      'dingkit_task_access_refused_total',
      'Task changes refused by the access rule, by path (chat, todo) and reason',
    ),
  });

  const inboundMode = (config.inbound ?? DEFAULT_INBOUND).mode;
  const appName = defaultAppName(config);
  // The HTTP routes' replay memory is the store's, shared by every hub process (and purged by retention).
  const seenStore =
    inboundMode !== 'stream' && appName && o.receive !== false
      ? new StoreSeenStore(store, { now })
      : undefined;
  let receivers: ReceiverSet;
  try {
    receivers = buildReceivers({
      config,
      appName,
      receive: o.receive,
      door: inbound,
      logger,
      replay: o.callbackReplay ?? (seenStore ? { inTransaction: seenStore } : false),
      // As a DingTalk client does (client.ts): the API origins this hub is configured with; in demo mode those
      // are the built-in emulator's.
      extraOrigins: [
        ...(emulator ? [emulator.url] : []),
        ...[config.dingtalk.oapiBase, config.dingtalk.apiBase].filter((u): u is string => u !== undefined),
      ],
      reportStoreFault: (e) => storeFaults.report(e, 'callbacks'),
      stream: o.stream,
      // In demo mode the first connection is awaited (the scene needs it); against DingTalk it comes when it comes.
      awaitFirstStreamMs: emulator ? (o.streamConnectTimeoutMs ?? 10_000) : undefined,
      unsafeAckBeforeCommit: o.unsafeAckBeforeCommit,
      ...(cardClicks ? { cards: { clicks: cardClicks, apiSecret: config.tasks.cards.http.apiSecret } } : {}),
    });
  } catch (e) {
    if (ownsStore) await store.close();
    throw e;
  }

  const sender = createSender({
    dingtalk,
    onTodoCreated: async (taskId, assignee, todoId, sent) => {
      const outcome = await tasks.todoCreated(taskId, assignee, todoId, sent);
      events.publish('task.todo', {
        id: taskId,
        assignee,
        todoId,
        ...(outcome === 'closedLate' ? { closedLate: true } : {}),
        ...(outcome === 'deleted' ? { deleted: true } : {}),
      });
    },
  });
  const delivery = startDelivery({
    config,
    store,
    sender,
    events,
    metrics,
    logger,
    now,
    faults: storeFaults,
  });
  const parkedMetrics = watchParked({
    events,
    metrics,
    parkedCount: async () => (await outbox.counts()).parked,
    onError: (e) => {
      if (!stopped && !storeFaults.report(e, 'parked count'))
        logger.warn({ err: (e as Error).message }, 'parked count failed');
    },
  });
  const results = new ResultChecker({
    config,
    store,
    dingtalk,
    outbox,
    events,
    metrics,
    logger,
    now,
    faults: storeFaults,
  });
  // Like the dispatcher: a process that sends nothing (dispatcher off) asks nothing either.
  if (config.dispatcher.enabled) results.start();
  const retention = new Retention({
    store,
    outbox: storeOutbox,
    inbox,
    retention: config.retention ?? DEFAULT_RETENTION,
    seen: seenStore,
    hooks: gateways?.hooks,
    metrics,
    logger,
    now,
    faults: storeFaults,
  });
  retention.start();

  // Inbox pump: a kick after each commit handles at once; the poll catches retries and what a crash left.
  let pumping: Promise<number> | undefined;
  let again = false;
  let stopped = false;
  const pump = (): Promise<number> => {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      let total = 0;
      do {
        again = false;
        const r = await inbox.process(inbound.handle);
        total += r.handled;
        if (r.handled + r.failed + r.retried > 0) again = true;
      } while (again && !stopped);
      return total;
    })()
      .catch((e: unknown) => {
        if (!storeFaults.report(e, 'inbox'))
          logger.warn({ err: (e as Error).message }, 'inbox processing failed');
        return 0;
      })
      .finally(() => {
        pumping = undefined;
      });
    return pumping;
  };
  inbound.onCommitted(() => void pump());
  const todoPoller = new TodoPoller({
    config,
    store,
    inbox,
    dingtalk,
    logger,
    faults: storeFaults,
    kick: () => void pump(),
  });
  todoPoller.start();
  gateways?.start();
  const inboxTimer = setInterval(() => void pump(), o.inboxPollMs ?? 500);
  inboxTimer.unref();
  scheduler.start();

  // A person actor passes through: the access rule applies to it inside the task service.
  const actor = (a: Actor | undefined): Actor => ({
    by: a?.by || 'api',
    ...(a?.person !== undefined ? { person: a.person } : {}),
  });
  /**
   * Text no store can hold (NUL, lone surrogates; src/core/text.ts) is refused before a service runs, whoever
   * calls: the HTTP API's contracts refuse it too, library callers and local CLI verbs meet it here. `fields` names
   * each argument for the error (`''`: the argument's own keys are the field names).
   */
  const checked =
    <A extends unknown[], R>(fields: readonly (string | undefined)[], fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      try {
        args.forEach((v, i) => {
          const field = fields[i];
          if (field !== undefined) assertStorableText(v, field);
        });
      } catch (e) {
        return Promise.reject(e);
      }
      return fn(...args);
    };

  const hub: RunningHub<E> = {
    config,
    events,
    metrics,
    store,
    storeFaults,
    emulator,
    get stream() {
      return receivers.stream?.client;
    },
    callbacks: receivers.http?.callbacks,
    receivers: receivers.all,
    gateways,
    hookRoutes: new HookOverview({
      store,
      routes: config.gateways?.routes ?? [],
      publicUrl: () => publicUrl,
    }),
    inbox,
    scheduler,
    todoPoller,
    peopleApp,
    results,
    setPublicUrl(url: string) {
      if (config.publicUrl === undefined) publicUrl = url.replace(/\/+$/, '');
    },
    drainInbox: () => pump(),
    purge: () => retention.runOnce(),

    sendMessage: checked(
      ['', 'actor'],
      (input: SendMessageInput, a: Actor): Promise<SendResult> => messages.send(input, actor(a)),
    ),
    getMessage: (id: string) => outbox.getMessage(id),
    assignTask: checked(
      ['', 'actor'],
      (input: TaskInput, a: Actor): Promise<Task> => tasks.assign(input, actor(a)),
    ),
    getTask: (id: number) => (Number.isSafeInteger(id) ? tasks.get(id) : Promise.resolve(undefined)),
    listTasks: checked([''], (f: TaskFilter) => tasks.list(f ?? {})),
    actOnTask: checked(
      [undefined, 'action', 'actor', 'note'],
      (id: number, action: 'start' | 'done' | 'cancel' | 'reopen', a: Actor, note?: string) => {
        if (!['start', 'done', 'cancel', 'reopen'].includes(action)) {
          return Promise.reject(new ValidationError('start, done, cancel or reopen', 'action'));
        }
        return tasks.act(id, action, actor(a), note);
      },
    ),
    updateTask: checked(
      [undefined, '', 'actor'],
      (id: number, patch: TaskPatch, a: Actor): Promise<Task> => tasks.update(id, patch, actor(a)),
    ),
    shareFile: checked(
      ['', 'actor'],
      (input: FileShareInput, a: Actor): Promise<FileShare> => files.share(input, actor(a)),
    ),
    listShares: (limit?: number) => files.list(limit),
    listDeliveries: (f: {
      status?: DeliveryStatus | undefined;
      dropped?: boolean | undefined;
      limit?: number | undefined;
    }): Promise<Delivery[]> => listWithRecipients(store, storeOutbox, f ?? {}),
    getDelivery: (id: string) => deliveryDetail(store, String(id)),
    redrive: checked(['ids', 'actor'], async (ids: readonly string[] | 'all-dead', a: Actor) => {
      const n = await outbox.redrive(ids, actor(a).by);
      if (n > 0) events.publish('delivery.redriven', { count: n, by: actor(a).by });
      return n;
    }),
    deliveryEvidence: async (id: string) => {
      const [e, d] = await Promise.all([
        readEvidence(store, Number(id), secrets),
        deliveryDetail(store, String(id)),
      ]);
      return e && { ...e, people: d?.people ?? [], recipients: d?.recipients, check: d?.check };
    },
    resolveDelivery: checked(
      [undefined, 'action', 'actor', 'note'],
      async (id: string, action: ResolveAction, a: Actor, note?: string) => {
        if (!RESOLVE_ACTIONS.includes(action)) {
          throw new ValidationError(RESOLVE_ACTIONS.join(', '), 'action');
        }
        const by = actor(a).by;
        const r = await resolveParked(store, { id: Number(id), action, by, note, now: now() });
        if (r && !r.duplicate) {
          parkedMetrics.decided(action);
          events.publish('delivery.resolved', { id: r.delivery.id, action, status: r.delivery.status, by });
          if (action === 'redrive') delivery.notify();
        }
        return r;
      },
    ),
    listPeople: async (): Promise<Person[]> => (await people.list()).map(({ key: _k, ...p }) => p),
    health: async (): Promise<HealthReport> => {
      let queue = { queued: 0, parked: 0, dead: 0 };
      // Healthy = the store can take a write now (a probe write, at most one per second), not merely answer.
      const writable = await storeFaults.check();
      let ok = writable.ok;
      try {
        queue = await outbox.counts();
      } catch (e) {
        storeFaults.report(e, 'health');
        ok = false;
      }
      return {
        ok,
        version: HUB_VERSION,
        store: store.dialect,
        ...(writable.ok ? {} : { storeError: writable.reason ?? 'the store is not available' }),
        ...(emulator ? { emulator: { url: emulator.url } } : {}),
        stream: streamHealth(receivers.stream),
        receivers: receivers.all.map((r) => r.health()),
        queue,
        timeZone: tasks.zone.zone,
      };
    },

    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearInterval(inboxTimer);
      inbound.stop();
      for (const r of receivers.all) await r.stop();
      await scheduler.stop();
      await todoPoller.stop();
      await results.stop();
      await gateways?.stop();
      await retention.stop();
      await pumping;
      await delivery.stop();
      parkedMetrics.stop();
      await parkedMetrics.refresh().catch(() => {});
      storeFaults.stop();
      await dingtalk.close().catch(() => {});
      if (ownsStore) await store.close();
    },
  };
  try {
    for (const r of receivers.all) await r.start();
  } catch (e) {
    // A half-started hub would leak its dispatcher, timers and store: undo it all.
    await hub.stop().catch(() => {});
    throw e;
  }
  return hub;
}

/** The Stream receiver's state in the health report's older `stream` field (the dashboard and doctor read it). */
function streamHealth(r: StreamReceiver | undefined): HealthReport['stream'] {
  const state = r?.health().state;
  return state === 'connected' || state === 'connecting' ? state : 'off';
}

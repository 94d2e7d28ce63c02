/**
 * `dingkit serve` (what `npm start` runs): config → hub (its first log line says whether it runs against the
 * built-in emulator) → HTTP API and dashboard → a banner with the dashboard, API and emulator URLs → in demo mode
 * (the built-in emulator) a freshly minted admin token (a demo token: it expires in 24 h and no hub with real
 * credentials accepts it, so a database later switched to production does not keep it) and the scripted demo
 * scene → SIGTERM/SIGINT → graceful
 * stop (the server stops taking requests and closes live streams, then the hub finishes or releases its sends).
 */

import type { Logger } from '../core/logger.js';
import { CALLBACK_PATHS, type CallbackName } from '../hub/inbound/http.js';
import { createApiToken, DEMO_TOKEN_LIFETIME_MS, StoreTokenVerifier } from '../server/api-tokens.js';
import { StoreApiTokens } from '../server/store-tokens.js';
import { createConsoleLogger, type LogFormat } from './console-logger.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { addConfigSecrets, configRedactor } from './secrets.js';

export const serveHelp = `Usage: dingkit serve [--port N] [--host H] [--no-demo] [--create-db] [--log json|pretty]

Starts the hub, its HTTP API and the live dashboard. With no DingTalk credentials configured it runs against the
built-in emulator (demo mode): it prints an admin API token and plays a short demo scene. The demo token expires
after 24 h and is refused once the hub runs with real DingTalk credentials.

  --port N       API port (default: server.port from the config, 8787; 0 = any free port)
  --host H       bind address (default: server.host, 127.0.0.1)
  --no-demo      in demo mode, skip the demo scene (the token is still printed)
  --create-db    create the SQLite database's directory when it is missing (database.create); without it a
                 missing directory is an error, except for the default ./data/dingkit.db
  --log FORMAT   json (default when stderr is not a terminal) or pretty`;

interface ServeOptions {
  /** Resolves when the server should stop (tests); default: the first SIGTERM or SIGINT. */
  until?: Promise<unknown>;
}

export async function serveVerb(args: string[], ctx: CliContext, o: ServeOptions = {}): Promise<number> {
  const { values: v } = parse(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'no-demo': { type: 'boolean' },
      'create-db': { type: 'boolean' },
      log: { type: 'string' },
    },
    false,
  );
  const port = v.port === undefined ? undefined : Number(v.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw usage('--port is 0-65535');
  if (v.log !== undefined && v.log !== 'json' && v.log !== 'pretty') throw usage('--log is json or pretty');
  const format: LogFormat = (v.log as LogFormat | undefined) ?? (ctx.io.stderr.isTTY ? 'pretty' : 'json');

  const loaded = ctx.config();
  const config = v['create-db'] ? { ...loaded, database: { ...loaded.database, create: true } } : loaded;
  const redactor = configRedactor(config);
  const logger = createConsoleLogger(ctx.io.stderr, { format, redactor });

  const { HUB_VERSION } = await import('../hub/hub.js');
  // Demo mode is decided here: launchHub starts the built-in emulator and hands it to the hub; hub.stop() closes it.
  const { launchHub } = await import('./launch-hub.js');
  const hub = await launchHub({ config, logger, configDir: ctx.configDir() }).catch((e: unknown) => {
    if ((e as { code?: string }).code === 'EADDRINUSE') {
      throw new CliError(
        EXIT.unavailable,
        `the built-in emulator's port ${config.emulator.port} is in use (set emulator.port in the config, 0 = any)`,
        'listen',
      );
    }
    throw e;
  });
  let stopping = false;
  const stopHub = async () => {
    if (stopping) return;
    stopping = true;
    await hub.stop();
  };
  try {
    // In demo mode the effective config (the emulator's org) carries its own fake secrets: redact those too.
    addConfigSecrets(redactor, hub.config);
    const tokens = new StoreApiTokens(hub.store);
    const demo = hub.emulator !== undefined;
    const { createApiServer } = await import('../server/api-server.js');
    const server = await createApiServer(hub, {
      host: v.host ?? config.server.host,
      port: port ?? config.server.port,
      tokens: new StoreTokenVerifier(tokens, {
        onError: (e) => {
          if (!hub.storeFaults.report(e, 'token last-use update')) {
            logger.warn({ err: String(e) }, 'token last-use update failed');
          }
        },
        // Demo tokens are for the built-in emulator only: with real credentials they never authenticate.
        acceptDemoTokens: demo,
      }),
      // An operator signed in to the people's app opens the dashboard with a short token from here.
      operatorTokens: tokens,
      events: hub.events,
      metrics: hub.metrics,
      logger,
      redactor,
      // One reporter for the process: a store outage is logged once per burst, by whichever part meets it first.
      storeFaults: hub.storeFaults,
      bodyLimitBytes: config.server.bodyLimitBytes,
      fileLimitBytes: config.files.maxBytes,
      maxConcurrentUploads: config.files.maxConcurrentUploads,
      // The public address's host is this hub's own name behind its proxy.
      allowedHosts: [...config.server.allowedHosts, ...publicHost(config.publicUrl)],
      version: HUB_VERSION,
      // inbound.mode http or both: DingTalk's signed callbacks, POST /callbacks/robot, /callbacks/events, /callbacks/card.
      ...(hub.callbacks ? { callbacks: hub.callbacks } : {}),
      // gateways.routes: POST /hooks/<name>, each with its own secret (docs/gateways.md).
      ...(hub.gateways ? { hooks: hub.gateways } : {}),
    }).catch((e: unknown) => {
      const code = (e as { code?: string }).code;
      throw new CliError(
        code === 'EADDRINUSE' ? EXIT.unavailable : EXIT.failure,
        code === 'EADDRINUSE'
          ? `port ${port ?? config.server.port} is in use (another hub? try --port 0)`
          : `cannot listen: ${(e as Error).message}`,
        'listen',
      );
    });
    hub.setPublicUrl(server.url);

    let token: string | undefined;
    if (demo) {
      const created = await createApiToken(tokens, `demo-${Date.now().toString(36)}`, ['admin'], {
        demo: true,
        expiresInMs: DEMO_TOKEN_LIFETIME_MS,
      });
      token = created.token;
      redactor.add(token);
    }
    const appBase = config.publicUrl ?? server.url;
    const info = {
      dashboard: `${server.url}/`,
      peopleApp: `${appBase}/app/`,
      api: `${server.url}/v1`,
      openapi: `${server.url}/openapi.json`,
      emulator: hub.emulator?.url,
      ...(hub.emulator ? { client: `${hub.emulator.url}/_emulator/client/` } : {}),
      mode: demo ? 'demo (built-in emulator)' : 'dingtalk',
      ...(hub.callbacks
        ? {
            callbacks: (Object.keys(CALLBACK_PATHS) as CallbackName[])
              .filter((k) => hub.callbacks?.[k])
              .map((k) => `${server.url}${CALLBACK_PATHS[k]}`),
          }
        : {}),
      ...(hub.gateways
        ? {
            hooks: [...hub.gateways.routes.values()].flatMap(({ route }) => [
              `${server.url}/hooks/${route.name}`,
              // prometheus-webhook-dingtalk's old URL for the same route (docs/gateways.md).
              ...(route.alias ? [`${server.url}/dingtalk/${route.alias.target}/send`] : []),
            ]),
          }
        : {}),
      ...(token ? { token } : {}),
    };
    ctx.out.result(info, () =>
      [
        '',
        `  dingkit hub ${HUB_VERSION} ${demo ? 'in demo mode: DingTalk is the built-in emulator' : 'connected to DingTalk'}`,
        '',
        `  Dashboard  ${info.dashboard}`,
        `  People     ${info.peopleApp}   (homepage URL for DingTalk's console; docs/people-app.md)`,
        `  API        ${info.api}   (OpenAPI: ${info.openapi})`,
        ...(info.emulator
          ? [
              `  Emulator   ${info.emulator}   (control API: ${info.emulator}/_emulator/)`,
              `  DingTalk   ${info.emulator}/_emulator/client/   (the emulated client: be a person, chat, tick Todos)`,
            ]
          : []),
        ...(info.callbacks
          ? [`  Callbacks  ${info.callbacks.join('  ')}   (DingTalk HTTP mode; signed, no token)`]
          : []),
        ...(info.hooks
          ? [`  Hooks      ${info.hooks.join('  ')}   (each with its route's own secret; docs/gateways.md)`]
          : []),
        ...(token
          ? [
              `  API token  ${token}`,
              '             admin scope, demo only (expires in 24 h); paste it into the dashboard, or: export DINGKIT_TOKEN=<token>',
            ]
          : ['  API token  create one with: dingkit token create NAME --scopes send']),
        '',
        '  Ctrl-C stops the hub gracefully.',
        '',
      ].join('\n'),
    );

    if (demo && !v['no-demo']) {
      const { runDemoScene } = await import('./demo-scene.js');
      void runDemoScene(hub, { logger }).catch((e: unknown) =>
        logger.warn({ err: redactor.redact(String((e as Error)?.message ?? e)) }, 'demo scene stopped'),
      );
    }

    await (o.until ?? untilSignal(logger));
    logger.info({}, 'stopping: closing the API, then letting in-flight sends finish');
    await server.close();
    await stopHub();
    logger.info({}, 'stopped');
    return EXIT.ok;
  } finally {
    await stopHub();
  }
}

/** The first SIGTERM/SIGINT starts a graceful stop; a second one exits at once. */
function untilSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (seen) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(EXIT.failure);
      }
      seen = true;
      logger.info({ signal: sig }, 'signal received');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** The host name of `publicUrl`, as a list (empty when unset or unreadable). */
function publicHost(url: string | undefined): string[] {
  if (url === undefined) return [];
  try {
    return [new URL(url).hostname];
  } catch {
    return [];
  }
}

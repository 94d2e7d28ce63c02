/**
 * What a verb gets: its IO, the global flags, the config (loaded on first use), and the hub — a running one
 * over HTTP (`--url`/`DINGKIT_URL`, else the configured port on loopback when something answers there), or,
 * when none runs, an in-process hub on the same store (`standalone`), stopped when the command ends.
 */

import { dirname } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isDingTalkError } from '../core/errors.js';
import { type HubConfig, loadConfig } from '../hub/config.js';
import type { Actor, HubService } from '../hub/service.js';
import { isTimeZone, ZonedTime } from '../hub/zoned-time.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { type CliIo, Output } from './io.js';
import { RemoteHub } from './remote-hub.js';

export interface GlobalFlags {
  json: boolean;
  url: string | undefined;
  token: string | undefined;
  config: string | undefined;
  help: boolean;
}

/** Starts a hub in this process when none is running; provided by main.ts (keeps this file free of hub internals). */
export type LocalHubStarter = (
  config: HubConfig,
  o?: { configDir?: string | undefined },
) => Promise<HubService & { stop(): Promise<void> }>;

export class CliContext {
  readonly out: Output;
  readonly actor: Actor = { by: 'cli' };
  readonly #cleanups: Array<() => Promise<void>> = [];
  #config: HubConfig | undefined;
  #configDir: string | undefined;
  #zone: ZonedTime | undefined;
  #hub: HubService | undefined;

  constructor(
    readonly io: CliIo,
    readonly flags: GlobalFlags,
    private readonly startLocal?: LocalHubStarter,
  ) {
    this.out = new Output(io, flags.json);
  }

  get token(): string | undefined {
    return this.flags.token ?? this.io.env['DINGKIT_TOKEN'];
  }

  config(): HubConfig {
    if (this.#config) return this.#config;
    try {
      const { config, source } = loadConfig({
        dir: this.io.cwd,
        env: this.io.env,
        ...(this.flags.config ? { path: this.flags.config } : {}),
      });
      this.#config = config;
      this.#configDir = source === undefined ? undefined : dirname(source);
      return config;
    } catch (e) {
      if (isDingTalkError(e) && e.code === 'CONFIG') throw new CliError(EXIT.config, e.message, 'config');
      throw e;
    }
  }

  /**
   * Where the config's relative paths (hook template directories) are read from: the config file's directory,
   * as a reader of the file expects, wherever `dingkit` was started; the working directory without a file.
   */
  configDir(): string {
    this.config();
    return this.#configDir ?? this.io.cwd;
  }

  /**
   * The zone times are shown in: the hub's own (its health report says it, for a token that may read), so the CLI
   * shows what chat and the dashboard show; else the config's `timeZone`; else the system's. Every time printed
   * carries its offset either way, so none is misread.
   */
  async zone(): Promise<ZonedTime> {
    if (this.#zone) return this.#zone;
    let zone: string | undefined;
    try {
      zone = (await (await this.hub()).health()).timeZone;
    } catch {
      zone = undefined;
    }
    this.#zone = zone !== undefined && isTimeZone(zone) ? new ZonedTime(zone) : this.localZone();
    return this.#zone;
  }

  /** The zone without asking a hub (for verbs that work on the store alone): the config's, else the system's. */
  localZone(): ZonedTime {
    let zone: string | undefined;
    try {
      zone = this.config().timeZone;
    } catch {
      zone = undefined;
    }
    return new ZonedTime(zone);
  }

  /** The hub URL given explicitly, if any. */
  get explicitUrl(): string | undefined {
    return this.flags.url ?? this.io.env['DINGKIT_URL'];
  }

  /** The hub URL to try: explicit, or the configured port on loopback. */
  hubUrl(): string {
    const explicit = this.explicitUrl;
    if (explicit) return explicit;
    const { host, port } = this.config().server;
    const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
    return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
  }

  async hub(): Promise<HubService> {
    if (this.#hub) return this.#hub;
    const explicit = this.explicitUrl;
    if (explicit) {
      this.#hub = new RemoteHub(explicit, this.token);
      return this.#hub;
    }
    const url = this.hubUrl();
    if (await answers(url)) {
      this.#hub = new RemoteHub(url, this.token);
      return this.#hub;
    }
    if (!this.startLocal) {
      throw new CliError(
        EXIT.unavailable,
        `no hub is running at ${url}: start one with "dingkit serve" or set DINGKIT_URL`,
        'unavailable',
      );
    }
    const local = await this.startLocal(this.config(), { configDir: this.configDir() });
    this.#cleanups.push(() => local.stop());
    this.out.note(`no hub at ${url}: working standalone on the store`);
    this.#hub = local;
    return local;
  }

  onCleanup(fn: () => Promise<void>): void {
    this.#cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup failures must not mask the command's own result.
      }
    }
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(800) });
    await res.body?.cancel();
    return res.status === 200 || res.status === 503;
  } catch {
    return false;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

type Values<O extends Options> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' }
    ? O[K] extends { multiple: true }
      ? boolean[]
      : boolean
    : O[K] extends { multiple: true }
      ? string[]
      : string;
};

/** `parseArgs` in strict mode; unknown flags and missing values become usage errors (exit 2). */
export function parse<O extends Options>(
  args: string[],
  options: O,
  allowPositionals = true,
): { values: Values<O>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: r.values as Values<O>, positionals: r.positionals };
  } catch (e) {
    throw usage((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** Splits `a,b, c` into names; empty entries dropped. */
export function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
}

/** A positive task id from the command line. */
export function taskId(value: string | undefined): number {
  if (value === undefined) throw usage('a task id is needed');
  const v = value.replace(/^#/, '');
  if (!/^\d{1,15}$/.test(v) || Number(v) < 1) throw usage(`"${value.slice(0, 20)}" is not a task id`);
  return Number(v);
}

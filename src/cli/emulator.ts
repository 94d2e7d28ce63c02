/**
 * `dingkit emulator`: the local DingTalk on its own (for trying the library or another tool against it). It
 * serves both API hosts, the Stream gateway and the `/_emulator/` control API on one origin.
 */

import { resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import { Redactor } from '../core/redact.js';
import { readEmulatorSettings } from '../verify/settings.js';
import { createConsoleLogger } from './console-logger.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';

export const emulatorHelp = `Usage: dingkit emulator [--port N] [--host H] [--allow-host NAMES] [--seed N] [--save FILE] [--settings FILE]

Runs the built-in DingTalk emulator (demo org preloaded) until Ctrl-C.
Point a client at it with DINGTALK_OAPI_BASE and DINGTALK_API_BASE (and DINGTALK_LOGIN_BASE for the
browser sign-in page) set to its URL.

  --port N     default 8788 (0 = any free port)
  --allow-host NAMES  comma-separated Host names to answer besides localhost and IP literals
               (another container's name for it); any other Host is refused (DNS rebinding)
  --seed N     seed for ids and faults (replayable runs)
  --save FILE  write the org and everything recorded to FILE on exit
  --settings FILE  limits and todoDoneEventType as JSON, e.g. the output of dingkit verify --emulator-settings
               (answer like a real org, docs/verify.md)`;

export async function emulatorVerb(
  args: string[],
  ctx: CliContext,
  o: { until?: Promise<unknown> } = {},
): Promise<number> {
  const { values: v } = parse(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-host': { type: 'string' },
      seed: { type: 'string' },
      save: { type: 'string' },
      settings: { type: 'string' },
    },
    false,
  );
  const port = v.port === undefined ? 8788 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage('--port is 0-65535');
  const seed = v.seed === undefined ? undefined : Number(v.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw usage('--seed is an integer');
  const logger = createConsoleLogger(ctx.io.stderr, {
    format: ctx.io.stderr.isTTY ? 'pretty' : 'json',
    redactor: new Redactor(),
  });
  const allowedHosts = (v['allow-host'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const settings = v.settings ? readEmulatorSettings(resolve(ctx.io.cwd, v.settings)) : {};
  const { startEmulator } = await import('../emulator/emulator.js');
  const emu = await startEmulator({
    port,
    ...(v.host ? { host: v.host } : {}),
    allowedHosts,
    ...(seed !== undefined ? { seed } : {}),
    ...(v.save ? { save: v.save } : {}),
    ...settings,
  }).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    throw new CliError(
      code === 'EADDRINUSE' ? EXIT.unavailable : EXIT.failure,
      code === 'EADDRINUSE'
        ? `port ${port} is in use (try --port 0)`
        : `cannot start: ${(e as Error).message}`,
      'listen',
    );
  });
  const org = emu.state.org;
  const info = {
    url: emu.url,
    control: `${emu.url}/_emulator/`,
    client: `${emu.url}/_emulator/client/`,
    apps: org.apps.map((a) => a.name),
    robots: org.customRobots.map((r) => r.name),
    groups: org.groups.map((g) => g.name),
    users: org.users.length,
  };
  ctx.out.result(info, () =>
    [
      `DingTalk emulator at ${info.url}`,
      `  control API  ${info.control}`,
      `  client       ${info.client}   (the emulated DingTalk client: be a person)`,
      `  apps         ${info.apps.join(', ') || '-'}`,
      `  robots       ${info.robots.join(', ') || '-'}`,
      `  groups       ${info.groups.join(', ') || '-'}`,
      `  users        ${info.users}`,
      `  use it: DINGTALK_OAPI_BASE=${info.url} DINGTALK_API_BASE=${info.url} DINGTALK_LOGIN_BASE=${info.url}`,
    ].join('\n'),
  );
  await (o.until ?? untilSignal(logger));
  await emu.close();
  return EXIT.ok;
}

function untilSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      logger.info({ signal: sig }, 'emulator stopping');
      resolve();
    };
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
  });
}

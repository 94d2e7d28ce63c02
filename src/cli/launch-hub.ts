/**
 * How the CLI starts a hub (`dingkit serve`, and the standalone hub of the other verbs): with no DingTalk
 * credentials (`usesEmulator`) it starts the built-in emulator first, derives the effective config from the
 * emulator's org (emulator-config.ts), says so in the first log line, and hands both to `startHub`. The hub never
 * starts an emulator itself; the one started here is closed by the hub's `stop()`, after the hub.
 */

import { type Emulator, startEmulator } from '../emulator/emulator.js';
import type { EmulatorOptions } from '../emulator/types.js';
import { usesEmulator } from '../hub/config.js';
import { type RunningHub, type StartHubOptions, startHub } from '../hub/hub.js';
import { CALLBACK_PATHS } from '../hub/inbound/http.js';
import { defaultAppName } from '../hub/messages/plan.js';
import { configFromOrg } from './emulator-config.js';

export interface LaunchHubOptions extends Omit<StartHubOptions<Emulator>, 'emulator'> {
  /** Options of the built-in emulator when it is started (tests pass scaled limits). Port: `emulator.port`. */
  emulator?: EmulatorOptions | undefined;
}

export async function launchHub(o: LaunchHubOptions): Promise<RunningHub<Emulator>> {
  const { emulator: emulatorOptions, ...rest } = o;
  if (!usesEmulator(o.config)) return startHub<Emulator>(rest);
  const emulator = await startEmulator({
    port: o.config.emulator.port,
    allowedHosts: o.config.server.allowedHosts ?? [],
    ...(emulatorOptions ?? {}),
  });
  o.logger?.info(
    { emulator: emulator.url },
    `dingkit hub: no DingTalk credentials configured, running against the built-in emulator at ${emulator.url}`,
  );
  let hub: RunningHub<Emulator>;
  try {
    hub = await startHub({
      ...rest,
      config: configFromOrg(emulator.state.org, o.config, emulator.url),
      emulator,
    });
  } catch (e) {
    await emulator.close();
    throw e;
  }
  const stopHub = hub.stop;
  const setPublicUrl = hub.setPublicUrl;
  return Object.assign(hub, {
    async stop() {
      await stopHub();
      await emulator.close();
    },
    setPublicUrl(url: string) {
      setPublicUrl(url);
      pointEmulatorAt(emulator, hub, url.replace(/\/+$/, ''));
    },
  });
}

/**
 * Demo mode: the emulator's app gets the hub's people app (`/app/`) as its homepage, which the emulated client's
 * workbench opens (docs/dingtalk.md §13.1), unless the fixture set one. Over HTTP (`inbound.mode` http or both) it
 * also points the app at the hub's callback routes, so people writing in the emulator reach the hub as DingTalk
 * would (its `botCallbackUrl` and event subscription URL, docs/dingtalk.md §9a, §9b), and task-card clicks too (its
 * registered card callback, §10).
 */
function pointEmulatorAt(emulator: Emulator, hub: RunningHub, baseUrl: string): void {
  const appName = defaultAppName(hub.config);
  const app = appName ? emulator.state.apps.get(hub.config.apps[appName]!.appKey) : undefined;
  if (app) app.homepageUrl ??= `${baseUrl}/app/`;
  if (!app || !hub.callbacks) return;
  if (hub.callbacks.robot) app.botCallbackUrl = `${baseUrl}${CALLBACK_PATHS.robot}`;
  if (hub.callbacks.events && app.callback) app.callback.url = `${baseUrl}${CALLBACK_PATHS.events}`;
  // The card callback URL as an operator registers it (docs/dingtalk.md §10 `/v1.0/card/callbacks/register`).
  const secret = hub.config.tasks.cards?.http.apiSecret;
  if (hub.callbacks.card && secret !== undefined) {
    app.cardCallback = {
      routeKey: hub.config.tasks.cards.http.routeKey,
      url: `${baseUrl}${CALLBACK_PATHS.card}`,
      apiSecret: secret,
    };
  }
}

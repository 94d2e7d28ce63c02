/**
 * The HTTP receiver (receiver.ts): DingTalk's signed callbacks, robot messages (docs/dingtalk.md §9a) and encrypted
 * events (§9b), served by the hub's own API server at the paths of `CALLBACK_PATHS`. The routes themselves, with
 * their verification and the commit that claims the replay keys in the inbox transaction, are built in http.ts from
 * `HTTP_ROUTES`; this class gives them the receiver's life cycle and health. It opens no socket: the API server that
 * mounts `callbacks` owns the port, so `start()` has nothing to wait for.
 */

import { CALLBACK_PATHS, type CallbackName, createHubCallbacks, type HubCallbacks } from './http.js';
import type { Receiver, ReceiverHealth } from './receiver.js';

export class HttpReceiver implements Receiver {
  readonly name = 'http' as const;
  /** The handlers for the API server to mount, by route name. */
  readonly callbacks: HubCallbacks;
  #state: ReceiverHealth['state'] = 'ready';

  constructor(deps: Parameters<typeof createHubCallbacks>[0]) {
    this.callbacks = createHubCallbacks(deps);
  }

  async start(): Promise<void> {
    this.#state = 'ready';
  }

  /**
   * The API server stops serving the routes when it closes; a callback that still arrives meets a stopped inbox door
   * (`InboundService.stop`) and is answered 500, so DingTalk sends it again to whichever hub process answers next.
   */
  async stop(): Promise<void> {
    this.#state = 'off';
  }

  health(): ReceiverHealth {
    const routes = (Object.keys(this.callbacks) as CallbackName[])
      .filter((k) => this.callbacks[k] !== undefined)
      .map((k) => CALLBACK_PATHS[k]);
    return { name: 'http', state: this.#state, routes };
  }
}

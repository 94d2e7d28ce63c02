/**
 * The control API's door. `/_emulator/` acts as people (posts in groups, clicks cards, closes
 * todos) and rewrites the fault plan, with no token: it is meant for the developer's own tools on loopback. What
 * it must refuse is a web page the developer has open. A page can send a cross-site "simple" request (a form, or
 * `fetch` with a text/plain body, no preflight) and does not need the answer to do harm; through DNS rebinding it
 * can even read answers, under a host name of its own.
 *
 * - An `Origin` other than the emulator's own is refused (403), on every control route. Browsers send Origin with
 *   every cross-origin request and with every POST/PUT; `Origin: null` (sandboxed pages, some redirects) is foreign.
 *   The CLI, tests and the hub's demo scene send none.
 * - The `Host` must be a loopback name, an IP literal or the emulator's own host (403 otherwise): a rebinding page
 *   reaches the emulator under its own domain name.
 * - A state-changing request (POST, PUT, PATCH, DELETE) must say `content-type: application/json` (415 otherwise),
 *   which no simple request can: a page would need a preflight, which the emulator never grants.
 *
 * The emulator's DingTalk routes are untouched: DingTalk's own clients send what they send.
 */

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Reply } from '../http-io.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hostnameOf(host: string): string {
  // `[::1]:8788` → `::1`; `127.0.0.1:8788` → `127.0.0.1`.
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(host) ?? /^([^:]+)(?::\d+)?$/.exec(host);
  return (m?.[1] ?? host).toLowerCase();
}

function allowedHost(host: string, own: URL): boolean {
  const name = hostnameOf(host);
  return name === 'localhost' || isIP(name) !== 0 || name === hostnameOf(own.host);
}

/** The refusal for a control request that may come from a web page, or undefined to let it through. */
export function controlRefusal(req: IncomingMessage, method: string, ownOrigin: string): Reply | undefined {
  const own = new URL(ownOrigin);
  const host = req.headers.host;
  if (host !== undefined && !allowedHost(host, own)) {
    return {
      status: 403,
      body: { error: 'the control API answers on loopback names and IP addresses only' },
      code: 'host',
    };
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // Same origin: the emulator's URL, or the same host and port the request was addressed to (localhost vs 127.0.0.1).
    const same = origin === own.origin || (host !== undefined && origin === `http://${host}`);
    if (!same) {
      return {
        status: 403,
        body: {
          error: 'cross-site request refused: the control API takes requests from its own origin only',
        },
        code: 'origin',
      };
    }
  }
  if (STATE_CHANGING.has(method)) {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/json') {
      return {
        status: 415,
        body: { error: 'the control API takes application/json bodies (content-type: application/json)' },
        code: 'content_type',
      };
    }
  }
  return undefined;
}

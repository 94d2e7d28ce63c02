/**
 * The emulated DingTalk client, the emulator's face for people (docs/emulator.md "The emulated client"): a page at
 * `/_emulator/client/`, its own script and style as same-origin files, and the one read it polls,
 * `GET /_emulator/client/view?user=`. Everything it does to the world goes through the control API's own routes
 * (post as a person, click a card, tick a Todo, issue a 免登 code), so the control API's door
 * (control/guard.ts: loopback Host, same Origin, JSON bodies) applies to the client's calls as to any other;
 * these routes live under `/_emulator/` and pass the same door.
 *
 * The page's policy allows its own script and style files and nothing inline (no `on...=` handlers, no `style=`),
 * fetches to its own origin only, frames on loopback origins only (the Todo and workbench pages), and no framing
 * of the client itself.
 */
import { ctlOk, type Reply } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import type { EmulatorState } from '../state.js';
import { CLIENT_HTML } from './page.js';
import { CLIENT_SCRIPT } from './script.js';
import { CLIENT_STYLE } from './style.js';
import { clientView } from './view.js';

export const CLIENT_PATH = '/_emulator/client/';

/** The client page's Content-Security-Policy. */
export const CLIENT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  // The Todo detail and workbench pages (the hub's people app) run on another loopback origin.
  'frame-src http://127.0.0.1:* http://localhost:*',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const COMMON = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function asset(body: string, contentType: string): Reply {
  return { status: 200, body, contentType, headers: COMMON };
}

export function registerClientRoutes(routes: RouteTable, state: EmulatorState): void {
  routes.add('GET', '/_emulator/client', () => ({
    status: 302,
    body: '',
    contentType: 'text/plain;charset=utf-8',
    headers: { location: CLIENT_PATH },
  }));
  routes.add('GET', CLIENT_PATH, () => ({
    status: 200,
    body: CLIENT_HTML,
    contentType: 'text/html;charset=utf-8',
    headers: {
      ...COMMON,
      'content-security-policy': CLIENT_CSP,
      'x-frame-options': 'DENY',
      // Not `no-referrer`: the client's POSTs must carry its real Origin, which the control API checks.
      'referrer-policy': 'same-origin',
    },
  }));
  routes.add('GET', `${CLIENT_PATH}app.js`, () => asset(CLIENT_SCRIPT, 'text/javascript;charset=utf-8'));
  routes.add('GET', `${CLIENT_PATH}app.css`, () => asset(CLIENT_STYLE, 'text/css;charset=utf-8'));
  routes.add('GET', `${CLIENT_PATH}view`, (ctx) =>
    ctlOk(clientView(state, ctx.query.get('user') ?? undefined)),
  );
}

/**
 * The live dashboard: one self-contained page (no build step, no framework, no external requests) served at `/`.
 * It asks for an API token (printed by `dingkit serve`), keeps it in sessionStorage, loads tasks, deliveries and
 * recent events over the API, then follows `GET /v1/events` (SSE) and refreshes what changed. It renders data
 * with `textContent` only (never as HTML), and there is nothing secret to show: the API never returns secrets,
 * and the token is never displayed.
 *
 * The page parts (style.ts, script.ts, the body here) are template literals, so they must contain no backslash,
 * backtick or "${" of their own (a test parses the script as the browser will).
 *
 * Its Content-Security-Policy (`DASHBOARD_CSP`) allows exactly this script and this style by their SHA-256 and
 * nothing inline besides: no `style=` attributes, no `on...=` handlers. Rendering with `textContent` is the first
 * defence against markup in task titles, nicks and chat text; the policy is the second, should a future change
 * slip such text into the page as HTML (test/security/dashboard-xss.test.ts).
 */

import { createHash } from 'node:crypto';
import { PARKED_BODY } from './parked.js';
import { SCRIPT } from './script.js';
import { STYLE } from './style.js';

const BODY = `
<div id="login" class="hidden">
  <h2>dingkit hub</h2>
  <p>Paste an API token. <code>dingkit serve</code> prints one in demo mode; otherwise create one with
    <code>dingkit token create dashboard --scopes read</code>.</p>
  <form id="login-form" autocomplete="off">
    <input id="token" type="password" placeholder="dk_…" aria-label="API token" autocomplete="off" spellcheck="false">
    <button class="primary" type="submit">Open dashboard</button>
    <div id="login-error" class="err"></div>
  </form>
</div>
<div id="app" class="hidden">
  <header>
    <h1>ding<span>kit</span> hub</h1>
    <div id="meta" class="meta"></div>
    <div class="spacer"></div>
    <span class="pill"><span id="live-dot" class="dot"></span><span id="live-text">connecting…</span></span>
    <button id="signout" type="button">Sign out</button>
  </header>
  <main>
    <section>
      <h2>Tasks <span id="tasks-count" class="count">0</span><span id="tasks-error" class="err"></span></h2>
      <div class="scroll"><table>
        <thead><tr><th>ID</th><th>Title</th><th>State</th><th>Assignees</th><th>Priority</th><th>Due</th><th></th></tr></thead>
        <tbody id="tasks"></tbody>
      </table></div>
    </section>
    <section>
      <h2>Deliveries <span id="deliveries-count" class="count">0</span>
        <span class="tools">
          <button id="tab-all" class="tab on" type="button">All</button>
          <button id="tab-dead" class="tab" type="button">Dead letters</button>
          <button id="tab-dropped" class="tab" type="button" title="Accepted by DingTalk but not delivered to someone">Dropped</button>
          <button id="redrive" class="hidden" type="button">Redrive all</button>
        </span>
      </h2>
      <div id="deliveries-error" class="err pad"></div>
      <div class="scroll"><table>
        <thead><tr><th>Status</th><th>Target</th><th>Channel</th><th>Tries</th><th>Updated</th></tr></thead>
        <tbody id="deliveries"></tbody>
      </table></div>
    </section>${PARKED_BODY}
    <section>
      <h2>Inbound commands <span id="commands-count" class="count">0</span></h2>
      <div class="scroll"><ul id="commands" class="feed"></ul></div>
    </section>
    <section>
      <h2>Recent events <span id="events-count" class="count">0</span></h2>
      <div class="scroll"><ul id="events" class="feed"></ul></div>
    </section>
  </main>
</div>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's policy: its own script and style by hash, API calls to this origin only, no framing, no forms. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function dashboardHtml(version: string): string {
  const v = version.replace(/[^0-9A-Za-z.+-]/g, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dingkit hub ${v}</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;
}

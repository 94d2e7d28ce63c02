/**
 * A stand-in for DingTalk's sign-in page `login.dingtalk.com/oauth2/auth` (docs/dingtalk.md §13.3). Point the
 * library's `loginBase` at the emulator and `loginUrl()` lands here: the page lists the org's people, and choosing
 * one sends the browser back to `redirect_uri` with a fresh OAuth code as `authCode` and as `code` (clients differ,
 * §13.3) plus the `state` it was given. Anyone who can reach the page can sign in as anyone: it is a test double.
 *
 * What it refuses (HTML 400 page): an unknown `client_id`, a `redirect_uri` that is not an absolute http(s) URL
 * (`javascript:`, `data:`, relative), a `response_type` other than `code`, a scope other than `openid` /
 * `openid corpid`. Everything rendered is HTML-escaped, the page loads nothing from anywhere (CSP
 * `default-src 'none'`), and the choice (a POST) is refused when a browser says it came from another origin.
 */
import type { Ctx, Reply } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import type { AppDef } from '../types.js';

export function registerLoginPage(routes: RouteTable): void {
  routes.add('GET', '/oauth2/auth', (ctx) => {
    const p = readParams((k) => ctx.query.get(k) ?? undefined, ctx);
    return 'error' in p ? refusal(p.error) : page(ctx, p);
  });
  routes.add('POST', '/oauth2/auth', choose);
}

interface LoginParams {
  app: AppDef;
  redirectUri: string;
  scope: string;
  state: string | undefined;
}

const SCOPES = new Set(['openid', 'openid corpid']);

function readParams(get: (k: string) => string | undefined, ctx: Ctx): LoginParams | { error: string } {
  const clientId = get('client_id');
  const app = clientId === undefined ? undefined : ctx.state.apps.get(clientId);
  if (!app) return { error: 'client_id is not an app of this org' };
  const redirectUri = get('redirect_uri') ?? '';
  if (!isHttpUrl(redirectUri)) return { error: 'redirect_uri must be an absolute http(s) URL' };
  if (get('response_type') !== 'code') return { error: 'response_type must be code' };
  const scope = get('scope') ?? 'openid';
  if (!SCOPES.has(scope)) return { error: "scope must be 'openid' or 'openid corpid'" };
  const state = get('state');
  if (state !== undefined && state.length > 1024) return { error: 'state is longer than 1024 characters' };
  return { app, redirectUri, scope, state };
}

function choose(ctx: Ctx): Reply {
  if (foreignOrigin(ctx)) return refusal('cross-site sign-in refused', 403);
  const field = (k: string): string | undefined => {
    const v = ctx.field(k);
    return typeof v === 'string' ? v : undefined;
  };
  const p = readParams(field, ctx);
  if ('error' in p) return refusal(p.error);
  const userId = field('userId') ?? '';
  if (!ctx.state.users.has(userId)) return refusal('choose a person of this org');
  const { code } = ctx.state.signIn.issueCode('oauth', userId, p.app.appKey, p.scope);
  const back = new URL(p.redirectUri);
  back.searchParams.set('authCode', code);
  back.searchParams.set('code', code);
  if (p.state !== undefined) back.searchParams.set('state', p.state);
  return {
    status: 302,
    body: '',
    contentType: 'text/plain;charset=utf-8',
    headers: { location: back.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  };
}

/** A browser's POST from a page of another origin (Origin is sent with every cross-origin POST). */
function foreignOrigin(ctx: Ctx): boolean {
  const origin = ctx.req.headers.origin;
  if (origin === undefined) return false;
  const host = ctx.req.headers.host;
  return origin !== ctx.origin && (host === undefined || origin !== `http://${host}`);
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !text.includes('#');
  } catch {
    return false;
  }
}

function page(ctx: Ctx, p: LoginParams): Reply {
  const hidden = [
    ['client_id', p.app.appKey],
    ['redirect_uri', p.redirectUri],
    ['response_type', 'code'],
    ['scope', p.scope],
    ...(p.state !== undefined ? [['state', p.state]] : []),
  ]
    .map(([k, v]) => `<input type="hidden" name="${esc(k ?? '')}" value="${esc(v ?? '')}">`)
    .join('\n      ');
  const people = ctx.state.org.users
    .map(
      (u) =>
        `<li><button type="submit" name="userId" value="${esc(u.userId)}">${esc(u.name)} <small>${esc(u.userId)}${u.title ? ` · ${esc(u.title)}` : ''}</small></button></li>`,
    )
    .join('\n        ');
  const body = `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>钉钉登录 (emulator)</title>
  <style>
    body { font: 15px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #1f2329; }
    h1 { font-size: 1.2rem; } p { color: #646a73; } ul { list-style: none; padding: 0; }
    button { width: 100%; text-align: left; padding: .6rem .8rem; margin: .25rem 0; border: 1px solid #dee0e3;
      border-radius: 6px; background: #fff; font: inherit; cursor: pointer; }
    button:hover, button:focus { border-color: #3370ff; } small { color: #8f959e; }
  </style>
</head>
<body>
  <h1>Sign in to ${esc(p.app.name)} with DingTalk</h1>
  <p>${esc(ctx.state.org.name)} · emulated sign-in: choose who you are.</p>
  <form method="post" action="/oauth2/auth">
      ${hidden}
      <ul>
        ${people}
      </ul>
  </form>
  <p><small>Returns to ${esc(new URL(p.redirectUri).origin)}</small></p>
</body>
</html>
`;
  return { status: 200, body, contentType: 'text/html;charset=utf-8', headers: PAGE_HEADERS, code: 0 };
}

function refusal(reason: string, status = 400): Reply {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title></head>
<body><h1>Sign-in refused</h1><p>${esc(reason)}</p></body></html>
`;
  return { status, body, contentType: 'text/html;charset=utf-8', headers: PAGE_HEADERS, code: status };
}

/** No scripts, no outside loads, no framing; the form may post here and the redirect may go to any http(s) URL. */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // Not `no-referrer`: under it a browser sends `Origin: null` with the form's POST, which `choose` refuses.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

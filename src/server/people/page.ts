/**
 * The people's pages: one HTML shell for every view (`/app` my tasks, `/app/tasks/<id>` a task, `/app/new` assign a
 * task), no data in it. Its script (script.ts) signs in (a 免登 code inside DingTalk, DingTalk's login outside),
 * loads what the person may see from `/app/api`, renders it with `textContent` only, and follows `/app/api/events`.
 *
 * Content-Security-Policy: the inline script and style by their SHA-256, the SDK bundle from this origin
 * (`/app/assets/dingtalk-jsapi.js`, served with `nosniff`), requests to this origin only, no inline handlers, no
 * `style=` attributes. Unlike the operator pages (`frame-ancestors 'none'`), these may be framed by DingTalk's PC
 * client, which opens some pages in a side panel (docs/dingtalk.md §13.1): `frame-ancestors` allows this origin and
 * DingTalk's hosts, nothing else.
 */

import { createHash } from 'node:crypto';
import { APP_SCRIPT } from './script.js';
import { APP_STYLE } from './style.js';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** DingTalk's hosts that may frame the pages (its PC client's side panel, §13.1). */
export const DINGTALK_FRAME_ANCESTORS = ['https://*.dingtalk.com'];

export const APP_CSP = [
  "default-src 'none'",
  `script-src 'self' ${sha256(APP_SCRIPT)}`,
  `style-src ${sha256(APP_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  `frame-ancestors 'self' ${DINGTALK_FRAME_ANCESTORS.join(' ')}`,
].join('; ');

export type Lang = 'zh' | 'en';

/** `zh` when the browser ranks some Chinese above English (or has no English), `en` otherwise. */
export function pickLanguage(header: string | undefined): Lang {
  if (!header) return 'en';
  let best: { lang: Lang; q: number } | undefined;
  for (const part of header.slice(0, 500).split(',')) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang: Lang | undefined = tag.startsWith('zh') ? 'zh' : tag.startsWith('en') ? 'en' : undefined;
    if (lang && (best === undefined || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'en';
}

const BODY = `
<header>
  <h1 id="brand">dingkit</h1>
  <span id="who" class="who"></span>
  <a id="dashboard" class="hidden" href="/">Dashboard</a>
  <button id="lang" type="button" class="lang">中文</button>
  <button id="signout" type="button" class="hidden">Sign out</button>
</header>
<main>
  <div id="signin" class="center hidden">
    <p id="signin-text"></p>
    <a id="signin-button" class="button primary" href="/app/login"></a>
    <p id="signin-error" class="err"></p>
  </div>
  <div id="busy" class="center"><span id="busy-text">…</span></div>
  <div id="list" class="hidden">
    <div class="actions"><a id="new-button" class="button primary" href="/app/new"></a></div>
    <h2 id="h-open"></h2><ul id="l-open" class="tasks"></ul>
    <h2 id="h-in_progress"></h2><ul id="l-in_progress" class="tasks"></ul>
    <h2 id="h-done"></h2><ul id="l-done" class="tasks"></ul>
  </div>
  <div id="task" class="hidden">
    <div class="card">
      <div><span id="t-state" class="state"></span> <span id="t-id" class="meta"></span></div>
      <div id="t-title" class="title"></div>
      <div id="t-desc" class="desc"></div>
      <dl>
        <dt id="k-due"></dt><dd id="t-due"></dd>
        <dt id="k-assignees"></dt><dd id="t-assignees"></dd>
        <dt id="k-group"></dt><dd id="t-group"></dd>
        <dt id="k-priority"></dt><dd id="t-priority"></dd>
      </dl>
      <div id="t-actions" class="actions"></div>
      <div id="t-error" class="err"></div>
    </div>
    <form id="edit" class="card hidden" autocomplete="off">
      <label id="k-edit-title" for="e-title"></label><input id="e-title" maxlength="200">
      <label id="k-edit-desc" for="e-desc"></label><textarea id="e-desc" maxlength="4000"></textarea>
      <label id="k-edit-due" for="e-due"></label><input id="e-due" type="datetime-local">
      <div class="actions"><button id="e-save" class="primary" type="submit"></button></div>
      <div id="e-error" class="err"></div>
    </form>
    <h2 id="h-history"></h2><div class="card"><ol id="t-history" class="history"></ol></div>
    <h2 id="h-sent"></h2><div class="card"><ul id="t-sent" class="sent"></ul></div>
    <div class="actions"><a id="back-button" class="button" href="/app/"></a></div>
  </div>
  <form id="new" class="card hidden" autocomplete="off">
    <label id="k-new-title" for="n-title"></label><input id="n-title" maxlength="200" required>
    <label id="k-new-desc" for="n-desc"></label><textarea id="n-desc" maxlength="4000"></textarea>
    <label id="k-new-who" for="n-search"></label><input id="n-search" type="search" maxlength="100">
    <div id="n-people" class="chips"></div>
    <label id="k-new-due" for="n-due"></label><input id="n-due" type="datetime-local">
    <label id="k-new-group" for="n-group"></label><select id="n-group"></select>
    <label id="k-new-priority" for="n-priority"></label>
    <select id="n-priority"><option value="low"></option><option value="normal" selected></option><option value="high"></option><option value="urgent"></option></select>
    <div class="actions"><button id="n-save" class="primary" type="submit"></button></div>
    <div id="n-error" class="err"></div>
  </form>
</main>
`;

export function appHtml(lang: Lang): string {
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}" data-lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dingkit</title>
<link rel="icon" href="data:,">
<style>${APP_STYLE}</style>
</head>
<body>${BODY}<script src="/app/assets/dingtalk-jsapi.js"></script>
<script>${APP_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * The live dashboard: one self-contained page (no build step, no framework, no external requests) served at `/`.
 * It asks for an API token (printed by `dingkit serve`), keeps it in sessionStorage, loads tasks, deliveries and
 * recent events over the API, then follows `GET /v1/events` (SSE) and refreshes what changed. It renders data
 * with `textContent` only (never as HTML), and there is nothing secret to show: the API never returns secrets,
 * and the token is never displayed.
 *
 * The page parts are template literals, so they must contain no backslash, backtick or "${" (a test parses the
 * script as the browser will).
 *
 * Its Content-Security-Policy (`DASHBOARD_CSP`) allows exactly this script and this style by their SHA-256 and
 * nothing inline besides: no `style=` attributes, no `on...=` handlers. Rendering with `textContent` is the first
 * defence against markup in task titles, nicks and chat text; the policy is the second, should a future change
 * slip such text into the page as HTML (test/security/dashboard-xss.test.ts).
 */

import { createHash } from 'node:crypto';

const STYLE = `
:root { --bg:#f4f6fa; --card:#fff; --ink:#1d2433; --muted:#6b7385; --line:#e3e7ef; --accent:#1677ff;
  --ok:#1f9d55; --warn:#d48806; --bad:#d4380d; --idle:#8c93a3; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", Roboto, sans-serif;
  background: var(--bg); color: var(--ink); }
header { display:flex; align-items:center; gap:16px; padding:14px 24px; background:#0f1b33; color:#fff; }
header h1 { font-size:18px; margin:0; font-weight:600; letter-spacing:.2px; }
header h1 span { color:#7fb0ff; }
header .meta { display:flex; gap:8px; flex-wrap:wrap; font-size:12px; }
header .spacer { flex:1; }
.pill { display:inline-flex; align-items:center; gap:6px; padding:2px 10px; border-radius:999px;
  background:rgba(255,255,255,.12); white-space:nowrap; }
.dot { width:8px; height:8px; border-radius:50%; background:var(--idle); display:inline-block; }
.dot.live { background:#52c41a; box-shadow:0 0 0 3px rgba(82,196,26,.25); }
.dot.down { background:#ff4d4f; }
button { font:inherit; border:1px solid var(--line); background:#fff; color:var(--ink); border-radius:6px;
  padding:4px 12px; cursor:pointer; }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
header button { background:transparent; color:#cfd8ea; border-color:rgba(255,255,255,.25); }
main { display:grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap:16px; padding:16px 24px 32px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; overflow:hidden;
  box-shadow:0 1px 2px rgba(16,24,40,.04); display:flex; flex-direction:column; min-height:180px; }
section h2 { margin:0; font-size:13px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted);
  padding:12px 16px; border-bottom:1px solid var(--line); display:flex; align-items:center; gap:8px; }
section h2 .count { background:var(--bg); color:var(--ink); border-radius:999px; padding:0 8px; font-size:12px; }
section h2 .tools { margin-left:auto; display:flex; gap:6px; text-transform:none; letter-spacing:0; }
.tab { border:none; background:none; color:var(--muted); padding:2px 8px; border-radius:6px; }
.tab.on { background:var(--bg); color:var(--ink); font-weight:600; }
.scroll { overflow:auto; max-height:420px; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:7px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th:first-child, td:first-child { padding-left:16px; } th:last-child, td:last-child { padding-right:16px; }
th { font-size:12px; color:var(--muted); font-weight:500; background:#fafbfd; position:sticky; top:0; }
tr:last-child td { border-bottom:none; }
td.num { color:var(--muted); font-variant-numeric: tabular-nums; white-space:nowrap; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:500;
  background:#eef1f6; color:var(--ink); white-space:nowrap; }
.b-open, .b-queued { background:#e6f0ff; color:#0958d9; }
.b-in_progress, .b-sending { background:#fff4e0; color:#ad6800; }
.b-done, .b-sent { background:#e8f7ee; color:#237a45; }
.b-cancelled { background:#f0f1f4; color:#6b7385; }
.b-dead { background:#fdecea; color:#b42318; }
.b-parked { background:#fff1e6; color:#c2410c; }
.b-urgent { background:#fdecea; color:#b42318; } .b-high { background:#fff4e0; color:#ad6800; }
.empty { color:var(--muted); padding:24px 16px; text-align:center; }
.err { color:var(--bad); font-size:12px; }
ul.feed { list-style:none; margin:0; padding:0; }
ul.feed li { padding:8px 16px; border-bottom:1px solid var(--line); display:grid; grid-template-columns:70px 1fr; gap:8px; }
ul.feed li:last-child { border-bottom:none; }
ul.feed .t { color:var(--muted); font-size:12px; font-variant-numeric: tabular-nums; }
ul.feed .k { font-weight:600; }
ul.feed .d { color:var(--muted); font-size:12px; word-break:break-word; }
#login { max-width:420px; margin:12vh auto; background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:28px; box-shadow:0 10px 30px rgba(16,24,40,.08); }
#login h2 { margin:0 0 6px; font-size:20px; }
#login p { color:var(--muted); margin:0 0 18px; }
#login input { width:100%; padding:9px 12px; border:1px solid var(--line); border-radius:8px; font:inherit; margin-bottom:12px; }
#login code { background:var(--bg); padding:1px 6px; border-radius:4px; }
.sub { color:var(--muted); font-size:12px; }
td.acts { white-space:nowrap; text-align:right; padding-left:0; }
td.title { min-width:160px; }
button.mini { padding:0 6px; font-size:12px; line-height:20px; margin-left:3px; color:var(--muted); }
button.mini:hover { color:var(--accent); border-color:var(--accent); }
.hidden { display:none !important; }
.pad { padding:0 16px; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var KEY = 'dingkit.token';
  var state = { token: sessionStorage.getItem(KEY), es: null, lastId: 0, events: [], commands: [], view: 'all', timers: {} };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function badge(v) { return el('span', 'badge b-' + v, String(v).replace('_', ' ')); }
  function time(ms) { var d = new Date(ms); return d.toTimeString().slice(0, 8); }
  function short(iso) { return iso ? String(iso).slice(5, 16).replace('T', ' ') : '–'; }

  function api(path, opts) {
    opts = opts || {};
    var headers = { authorization: 'Bearer ' + state.token };
    if (opts.body) headers['content-type'] = 'application/json';
    return fetch(path, { method: opts.method || 'GET', headers: headers, body: opts.body }).then(function (res) {
      if (res.status === 401) { signOut('The token was refused. Paste a valid API token.'); throw new Error('unauthorized'); }
      return res.json().then(function (j) {
        if (!res.ok) throw new Error((j && j.error && j.error.message) || ('HTTP ' + res.status));
        return j;
      });
    });
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    state.token = null;
    if (state.es) { state.es.close(); state.es = null; }
    $('app').classList.add('hidden');
    $('login').classList.remove('hidden');
    $('login-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  function start() {
    $('login').classList.add('hidden');
    $('app').classList.remove('hidden');
    loadHealth(); loadTasks(); loadDeliveries();
    api('/v1/events/recent?limit=200').then(function (j) {
      j.events.forEach(function (e) { addEvent(e.id, e.type, e.at, e.data); });
      connect();
    }).catch(function () { connect(); });
  }

  function connect() {
    if (!state.token) return;
    if (state.es) state.es.close();
    var url = '/v1/events?lastEventId=' + state.lastId + '&access_token=' + encodeURIComponent(state.token);
    var es = new EventSource(url);
    state.es = es;
    es.onopen = function () { setLive(true); };
    es.onerror = function () {
      setLive(false);
      if (es.readyState === EventSource.CLOSED) {
        // A refused stream is not retried by the browser: check the token, then reconnect.
        setTimeout(function () { api('/v1/health').then(connect, function () {}); }, 3000);
      }
    };
    es.onmessage = function (m) { onEvent(m, 'message'); };
    ['message.queued', 'delivery', 'delivery.redriven', 'task.created', 'task.changed', 'task.todo', 'task.synced',
     'task.reminded', 'task.escalated', 'file.shared', 'inbound.command'].forEach(function (t) {
      es.addEventListener(t, function (m) { onEvent(m, t); });
    });
  }

  function onEvent(m, type) {
    var data = {};
    try { data = JSON.parse(m.data); } catch (e) { data = {}; }
    var id = Number(m.lastEventId) || 0;
    addEvent(id, type, data.at || Date.now(), data);
    if (type.indexOf('task.') === 0) later('tasks', loadTasks);
    if (type.indexOf('delivery') === 0 || type === 'message.queued' || type === 'file.shared' || type === 'task.created') {
      later('deliveries', loadDeliveries);
    }
    later('health', loadHealth);
  }

  function later(name, fn) {
    clearTimeout(state.timers[name]);
    state.timers[name] = setTimeout(fn, 250);
  }

  function addEvent(id, type, at, data) {
    if (id && id <= state.lastId) return;
    if (id) state.lastId = id;
    state.events.unshift({ id: id, type: type, at: at, data: data || {} });
    if (state.events.length > 200) state.events.length = 200;
    if (type === 'inbound.command') {
      state.commands.unshift({ at: at, data: data || {} });
      if (state.commands.length > 100) state.commands.length = 100;
      renderCommands();
    }
    renderEvents();
  }

  function setLive(on) {
    $('live-dot').className = 'dot ' + (on ? 'live' : 'down');
    $('live-text').textContent = on ? 'live' : 'reconnecting…';
  }

  function loadHealth() {
    api('/v1/health').then(function (h) {
      var m = $('meta'); m.textContent = '';
      m.appendChild(el('span', 'pill', 'v' + h.version));
      m.appendChild(el('span', 'pill', h.store));
      m.appendChild(el('span', 'pill', 'stream ' + h.stream));
      if (h.emulator) m.appendChild(el('span', 'pill', 'demo: built-in emulator'));
      m.appendChild(el('span', 'pill', h.queue.queued + ' queued · ' + h.queue.parked + ' parked · ' + h.queue.dead + ' dead'));
    }).catch(function () {});
  }

  function loadTasks() {
    api('/v1/tasks?limit=200').then(function (j) {
      var body = $('tasks'); body.textContent = '';
      $('tasks-count').textContent = j.tasks.length;
      if (!j.tasks.length) { body.appendChild(emptyRow(7, 'No tasks yet. Assign one: dingkit task assign "Title" --to Name')); return; }
      j.tasks.forEach(function (t) {
        var tr = el('tr');
        tr.appendChild(el('td', 'num', '#' + t.id));
        var title = el('td', 'title'); title.appendChild(el('div', '', t.title));
        if (t.group) title.appendChild(el('div', 'sub', t.group));
        tr.appendChild(title);
        var st = el('td'); st.appendChild(badge(t.state)); tr.appendChild(st);
        tr.appendChild(el('td', '', t.assignees.map(function (a) { return a.name; }).join(', ')));
        var pr = el('td'); pr.appendChild(badge(t.priority)); tr.appendChild(pr);
        tr.appendChild(el('td', 'num', short(t.due)));
        var acts = el('td', 'acts');
        var moves = t.state === 'open' ? ['start', 'done', 'cancel'] : t.state === 'in_progress' ? ['done', 'cancel'] : [];
        // An open task can also be renamed (PATCH); the rest of an edit is the CLI's (dingkit task edit).
        if (moves.length) moves = ['edit'].concat(moves);
        moves.forEach(function (a) {
          var b = el('button', 'mini', { edit: '✎', start: '▶', done: '✓', cancel: '✕' }[a]);
          b.type = 'button';
          b.title = a + ' task #' + t.id;
          b.setAttribute('aria-label', a + ' task #' + t.id);
          b.setAttribute('data-task', String(t.id));
          b.setAttribute('data-action', a);
          if (a === 'edit') { b.title = 'rename task #' + t.id; b.setAttribute('aria-label', b.title); b.setAttribute('data-title', t.title); }
          acts.appendChild(b);
        });
        tr.appendChild(acts);
        body.appendChild(tr);
      });
    }).catch(function (e) { showError('tasks-error', e); });
  }

  function loadDeliveries() {
    var q = state.view === 'dead' ? '/v1/deliveries/dead?limit=200' : '/v1/deliveries?limit=200';
    api(q).then(function (j) {
      var body = $('deliveries'); body.textContent = '';
      $('deliveries-count').textContent = j.deliveries.length;
      $('redrive').classList.toggle('hidden', !(state.view === 'dead' && j.deliveries.length));
      if (!j.deliveries.length) { body.appendChild(emptyRow(5, state.view === 'dead' ? 'No dead letters.' : 'No deliveries yet.')); return; }
      j.deliveries.forEach(function (d) {
        var tr = el('tr');
        var st = el('td'); st.appendChild(badge(d.status)); tr.appendChild(st);
        tr.appendChild(el('td', '', d.target + (d.part ? ' (' + d.part.index + '/' + d.part.count + ')' : '')));
        tr.appendChild(el('td', '', d.channel));
        tr.appendChild(el('td', 'num', d.attempts));
        var last = el('td'); last.appendChild(el('div', 'num', short(d.updatedAt)));
        if (d.lastError) last.appendChild(el('div', 'err', d.lastError));
        tr.appendChild(last);
        body.appendChild(tr);
      });
    }).catch(function (e) { showError('deliveries-error', e); });
  }

  function emptyRow(cols, text) {
    var tr = el('tr'); var td = el('td', 'empty', text); td.colSpan = cols; tr.appendChild(td); return tr;
  }
  function showError(id, e) { if (e.message !== 'unauthorized') $(id).textContent = e.message; }

  function summary(data) {
    var parts = [];
    Object.keys(data).forEach(function (k) {
      if (k === 'at') return;
      var v = data[k];
      parts.push(k + '=' + (typeof v === 'object' ? JSON.stringify(v) : String(v)));
    });
    var s = parts.join('  ');
    return s.length > 220 ? s.slice(0, 220) + '…' : s;
  }

  function renderEvents() {
    var ul = $('events'); ul.textContent = '';
    $('events-count').textContent = state.events.length;
    if (!state.events.length) { ul.appendChild(el('li', 'empty', 'Waiting for activity…')); return; }
    state.events.slice(0, 100).forEach(function (e) {
      var li = el('li');
      li.appendChild(el('span', 't', time(e.at)));
      var body = el('div'); body.appendChild(el('div', 'k', e.type)); body.appendChild(el('div', 'd', summary(e.data)));
      li.appendChild(body); ul.appendChild(li);
    });
  }

  function renderCommands() {
    var ul = $('commands'); ul.textContent = '';
    $('commands-count').textContent = state.commands.length;
    if (!state.commands.length) { ul.appendChild(el('li', 'empty', 'No chat commands yet. People can write "done 42" to the bot.')); return; }
    state.commands.forEach(function (c) {
      var li = el('li');
      li.appendChild(el('span', 't', time(c.at)));
      var d = c.data; var body = el('div');
      var what = d.kind === 'transition' ? d.action + ' #' + d.taskId : (d.kind === 'list' ? 'tasks' : String(d.kind || ''));
      body.appendChild(el('div', 'k', (d.by || 'someone') + ': ' + what));
      body.appendChild(el('div', 'd', summary(d)));
      li.appendChild(body); ul.appendChild(li);
    });
  }

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = $('token').value.trim();
    if (!t) return;
    state.token = t;
    fetch('/v1/health', { headers: { authorization: 'Bearer ' + t } }).then(function () {
      return fetch('/v1/events/recent?limit=1', { headers: { authorization: 'Bearer ' + t } });
    }).then(function (res) {
      if (res.status === 401) { signOut('The token was refused.'); return; }
      sessionStorage.setItem(KEY, t);
      start();
    });
  });
  $('signout').addEventListener('click', function () { signOut(''); });
  $('tasks').addEventListener('click', function (ev) {
    var b = ev.target;
    if (!b || !b.getAttribute || !b.getAttribute('data-action')) return;
    var id = b.getAttribute('data-task'), action = b.getAttribute('data-action');
    var call = { path: '/v1/tasks/' + id + '/' + action, method: 'POST', body: '{}' };
    if (action === 'edit') {
      var old = b.getAttribute('data-title') || '';
      var title = window.prompt('New title of task #' + id, old);
      if (title === null || title.trim() === '' || title.trim() === old) return;
      call = { path: '/v1/tasks/' + id, method: 'PATCH', body: JSON.stringify({ title: title.trim() }) };
    }
    b.disabled = true;
    $('tasks-error').textContent = '';
    api(call.path, { method: call.method, body: call.body }).then(loadTasks, function (e) {
      b.disabled = false;
      showError('tasks-error', e);
    });
  });
  $('tab-all').addEventListener('click', function () { setView('all'); });
  $('tab-dead').addEventListener('click', function () { setView('dead'); });
  $('redrive').addEventListener('click', function () {
    api('/v1/deliveries/redrive', { method: 'POST', body: JSON.stringify({ allDead: true }) }).then(function (j) {
      $('deliveries-error').textContent = j.moved + ' back in the queue';
      loadDeliveries();
    }).catch(function (e) { showError('deliveries-error', e); });
  });
  function setView(v) {
    state.view = v;
    $('tab-all').classList.toggle('on', v === 'all');
    $('tab-dead').classList.toggle('on', v === 'dead');
    $('deliveries-error').textContent = '';
    loadDeliveries();
  }

  renderEvents(); renderCommands();
  if (state.token) start(); else signOut('');
})();
`;

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
          <button id="redrive" class="hidden" type="button">Redrive all</button>
        </span>
      </h2>
      <div id="deliveries-error" class="err pad"></div>
      <div class="scroll"><table>
        <thead><tr><th>Status</th><th>Target</th><th>Channel</th><th>Tries</th><th>Updated</th></tr></thead>
        <tbody id="deliveries"></tbody>
      </table></div>
    </section>
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

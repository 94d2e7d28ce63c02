/**
 * The dashboard's browser script (page.ts serves it inline and allows it by hash). Its list of event names and what
 * each one refreshes are written into it from the event map when this module loads, so the page listens for
 * every event the hub publishes: a name added to the map fails to compile here until `REFRESH` says what it
 * refreshes. Apart from those two inserted values the text must contain no backslash, backtick or "${" (a test
 * parses the script as the browser will).
 */

import { EVENT_NAMES, type HubEventName } from '../../observe/event-map.js';
import { PARKED_SCRIPT } from './parked.js';
import { RECIPIENTS_SCRIPT } from './recipients-script.js';

type Panel = 'tasks' | 'deliveries';

/** What each event makes the page reload, besides the health line that every event refreshes. */
const REFRESH = {
  'message.queued': ['deliveries'],
  delivery: ['deliveries'],
  'delivery.recipient': ['deliveries'],
  'delivery.redriven': ['deliveries'],
  'delivery.resolved': ['deliveries'],
  'task.created': ['tasks', 'deliveries'],
  'task.changed': ['tasks', 'deliveries'],
  'task.edited': ['tasks', 'deliveries'],
  'task.todo': ['tasks'],
  'task.reminded': ['tasks', 'deliveries'],
  'task.escalated': ['tasks', 'deliveries'],
  'file.shared': ['deliveries'],
  // A chat command queues a reply (a move it made comes as its own task.changed).
  'inbound.command': ['tasks', 'deliveries'],
} as const satisfies Record<HubEventName, readonly Panel[]>;

export const SCRIPT = `
(function () {
  'use strict';
  var EVENT_NAMES = ${JSON.stringify(EVENT_NAMES)};
  var REFRESH = ${JSON.stringify(REFRESH)};
  var KEY = 'dingkit.token';
  var state = { token: sessionStorage.getItem(KEY), es: null, lastId: 0, events: [], commands: [], view: 'all', timers: {}, zone: null };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function badge(v) { return el('span', 'badge b-' + v, String(v).replace('_', ' ')); }
  // Times in the hub's zone (from /v1/health), always with the offset marked: 2026-12-05 18:00 (UTC+08:00).
  function zoned(ms, withSeconds) {
    var o = { hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'longOffset' };
    if (withSeconds) o.second = '2-digit';
    if (state.zone) o.timeZone = state.zone;
    var p = {};
    try {
      new Intl.DateTimeFormat('en-US', o).formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    } catch (e) {
      return new Date(ms).toISOString();
    }
    var off = (p.timeZoneName || 'GMT').replace('GMT', 'UTC');
    if (off === 'UTC') off = 'UTC+00:00';
    var hm = (p.hour === '24' ? '00' : p.hour) + ':' + p.minute + (withSeconds ? ':' + p.second : '');
    return { date: p.year + '-' + p.month + '-' + p.day, time: hm, zone: off };
  }
  function time(ms) { var z = zoned(ms, true); return typeof z === 'string' ? z : z.time + ' (' + z.zone + ')'; }
  // A time for a table cell: month, day and time, the zone on a second, smaller line (the cell stays as narrow as
  // before); the full date in the tooltip.
  function when(tag, iso) {
    var box = el(tag, 'num');
    var ms = iso ? Date.parse(iso) : NaN;
    if (isNaN(ms)) { box.textContent = iso ? String(iso) : '–'; return box; }
    var z = zoned(ms, false);
    if (typeof z === 'string') { box.textContent = z; return box; }
    box.title = z.date + ' ' + z.time + ' (' + z.zone + ')';
    box.appendChild(document.createTextNode(z.date.slice(5) + ' ' + z.time + ' '));
    box.appendChild(el('span', 'zone', '(' + z.zone + ')'));
    return box;
  }

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
    loadHealth(); loadTasks(); loadDeliveries(); loadParked();
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
    EVENT_NAMES.forEach(function (t) {
      es.addEventListener(t, function (m) { onEvent(m, t); });
    });
  }

  function onEvent(m, type) {
    var data = {};
    try { data = JSON.parse(m.data); } catch (e) { data = {}; }
    var id = Number(m.lastEventId) || 0;
    addEvent(id, type, data.at || Date.now(), data);
    var panels = REFRESH[type] || [];
    if (panels.indexOf('tasks') >= 0) later('tasks', loadTasks);
    if (panels.indexOf('deliveries') >= 0) { later('deliveries', loadDeliveries); later('parked', loadParked); }
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
      if (h.timeZone && h.timeZone !== state.zone) {
        // Times drawn before the zone was known are drawn again in it.
        state.zone = h.timeZone;
        loadTasks(); loadDeliveries(); loadParked(); renderEvents(); renderCommands();
      }
      var m = $('meta'); m.textContent = '';
      if (h.timeZone) m.appendChild(el('span', 'pill', h.timeZone));
      m.appendChild(el('span', 'pill', 'v' + h.version));
      m.appendChild(el('span', 'pill', h.store));
      // One pill per receiver (inbound.mode): "stream connected", "http ready"; older hubs report only the stream.
      if (h.receivers && h.receivers.length) {
        h.receivers.forEach(function (r) { m.appendChild(el('span', 'pill', r.name + ' ' + r.state)); });
      } else {
        m.appendChild(el('span', 'pill', 'stream ' + h.stream));
      }
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
        tr.appendChild(when('td', t.due));
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

${RECIPIENTS_SCRIPT}
  function loadDeliveries() {
    var q = state.view === 'dead' ? '/v1/deliveries/dead?limit=200' : state.view === 'dropped' ? DROPPED_QUERY : '/v1/deliveries?limit=200';
    api(q).then(function (j) {
      var body = $('deliveries'); body.textContent = '';
      $('deliveries-count').textContent = j.deliveries.length;
      $('redrive').classList.toggle('hidden', !(state.view === 'dead' && j.deliveries.length));
      if (!j.deliveries.length) { body.appendChild(emptyRow(5, state.view === 'dead' ? 'No dead letters.' : state.view === 'dropped' ? 'No dropped recipients.' : 'No deliveries yet.')); return; }
      j.deliveries.forEach(function (d) {
        var tr = el('tr');
        var st = el('td'); st.appendChild(badge(d.status));
        var rb = recipientsBadge(d, tr, 5); if (rb) st.appendChild(rb);
        tr.appendChild(st);
        tr.appendChild(el('td', '', d.target + (d.part ? ' (' + d.part.index + '/' + d.part.count + ')' : '')));
        tr.appendChild(el('td', '', d.channel));
        tr.appendChild(el('td', 'num', d.attempts));
        var last = el('td'); last.appendChild(when('div', d.updatedAt));
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

${PARKED_SCRIPT}
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
  $('tab-dropped').addEventListener('click', function () { setView('dropped'); });
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
    $('tab-dropped').classList.toggle('on', v === 'dropped');
    $('deliveries-error').textContent = '';
    loadDeliveries();
  }

  /**
   * An operator signed in to the people's app (its session cookie is scoped to /app) gets a short-lived token for
   * this page from it instead of pasting one; anyone else sees the token prompt.
   */
  function fromAppSession() {
    return fetch('/app/api/me', { credentials: 'same-origin' }).then(function (r) {
      return r.status === 200 ? r.json() : null;
    }).then(function (me) {
      if (!me || !me.operator) return null;
      return fetch('/app/api/operator-token', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf },
        body: '{}'
      }).then(function (r) { return r.status === 201 ? r.json() : null; });
    }).then(function (got) { return got && got.token ? got.token : null; }).catch(function () { return null; });
  }

  renderEvents(); renderCommands();
  if (state.token) start();
  else fromAppSession().then(function (t) {
    if (!t) { signOut(''); return; }
    state.token = t;
    sessionStorage.setItem(KEY, t);
    start();
  });
})();
`;

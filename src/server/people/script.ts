/**
 * The people's pages' script, served inline and allowed by hash (page.ts). Plain ES2017, no framework, no build.
 * It renders with `textContent` and `createElement` only, never as HTML. It must contain no backslash, backtick or
 * "${" of its own (it is a template literal; a test parses it as the browser will).
 *
 * Flow: `GET /app/api/me`; without a session, inside DingTalk (`dingkitJsapi.platform` is not `notInDingTalk`) it
 * asks the container for a 免登 code and posts it to `/app/session/dingtalk`; outside it offers "Sign in with
 * DingTalk" (`/app/login`). Changes carry the session's CSRF token in `x-csrf-token`. Times are shown in the
 * browser's time zone, with the zone named.
 */

export const APP_SCRIPT = `
(function () {
  'use strict';
  var T = {
    en: {
      brand: 'My tasks', signout: 'Sign out', dashboard: 'Dashboard', langSwitch: '中文', loading: 'Loading…',
      signinText: 'Sign in with your DingTalk account to see your tasks.', signinButton: 'Sign in with DingTalk',
      signinFailed: 'DingTalk did not sign you in. Close the page and open it again.',
      newTask: 'Assign a task', open: 'Open', in_progress: 'In progress', done: 'Done', cancelled: 'Cancelled',
      none: '—', noTasks: 'Nothing here.', due: 'Due', assignees: 'Assignees', group: 'Group', priority: 'Priority',
      history: 'History', sent: 'Sent to DingTalk', nothingSent: 'Nothing sent yet.', back: 'All my tasks',
      act_start: 'Start', act_done: 'Done', act_cancel: 'Cancel', act_reopen: 'Reopen',
      editTitle: 'Title', editDesc: 'Description', editDue: 'Due', save: 'Save', create: 'Assign',
      who: 'Assign to (search)', low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent', noGroup: 'No group',
      viaApp: 'web app', viaApi: 'API', viaCli: 'CLI', viaTodo: 'DingTalk Todo', viaHub: 'hub',
      ev_created: 'created', ev_edited: 'edited', ev_start: 'started', ev_done: 'finished', ev_cancel: 'cancelled',
      ev_reopen: 'reopened', ev_reminded: 'reminder sent', ev_escalated: 'escalated', ev_todo_synced: 'Todo synced',
      ch_robot: 'Group robot', ch_app: 'App', ch_notice: 'Work notice',
      st_queued: 'queued', st_sending: 'sending', st_sent: 'sent', st_parked: 'held', st_dead: 'failed',
      st_cancelled: 'cancelled', notFound: 'No such task, or not yours to see.', pickSomeone: 'Pick at least one person.',
      failed: 'That did not work: ', expired: 'Your sign-in has ended. Sign in again.', live: 'live'
    },
    zh: {
      brand: '我的任务', signout: '退出', dashboard: '管理后台', langSwitch: 'English', loading: '加载中…',
      signinText: '请用钉钉账号登录，查看你的任务。', signinButton: '使用钉钉登录',
      signinFailed: '钉钉登录未成功，请关闭页面后重新打开。',
      newTask: '分配任务', open: '待处理', in_progress: '进行中', done: '已完成', cancelled: '已取消',
      none: '—', noTasks: '暂无任务。', due: '截止', assignees: '负责人', group: '群', priority: '优先级',
      history: '记录', sent: '已发往钉钉', nothingSent: '尚未发送。', back: '我的全部任务',
      act_start: '开始', act_done: '完成', act_cancel: '取消', act_reopen: '重新打开',
      editTitle: '标题', editDesc: '描述', editDue: '截止时间', save: '保存', create: '分配',
      who: '分配给（搜索）', low: '低', normal: '普通', high: '高', urgent: '紧急', noGroup: '不发群',
      viaApp: '网页应用', viaApi: 'API', viaCli: '命令行', viaTodo: '钉钉待办', viaHub: '系统',
      ev_created: '创建', ev_edited: '修改', ev_start: '开始', ev_done: '完成', ev_cancel: '取消',
      ev_reopen: '重新打开', ev_reminded: '已提醒', ev_escalated: '已升级', ev_todo_synced: '待办已同步',
      ch_robot: '群机器人', ch_app: '应用', ch_notice: '工作通知',
      st_queued: '排队中', st_sending: '发送中', st_sent: '已发送', st_parked: '暂停', st_dead: '失败',
      st_cancelled: '已取消', notFound: '没有这个任务，或你无权查看。', pickSomeone: '请至少选择一人。',
      failed: '操作未成功：', expired: '登录已过期，请重新登录。', live: '实时'
    }
  };
  var saved = null;
  try { saved = window.localStorage.getItem('dk-lang'); } catch (e) { saved = null; }
  var lang = saved === 'zh' || saved === 'en' ? saved
    : (document.documentElement.getAttribute('data-lang') === 'zh' ? 'zh' : 'en');
  var me = null;
  var csrf = '';
  var view = route();
  var current = null;
  var chosen = [];
  var directory = { people: [], groups: [] };
  var reloadTimer = null;

  function t(k) { return (T[lang] && T[lang][k]) || T.en[k] || k; }
  function $(id) { return document.getElementById(id); }
  function text(id, v) { var n = $(id); if (n) n.textContent = v; }
  function show(id, on) { var n = $(id); if (n) n.classList.toggle('hidden', !on); }
  function el(tag, cls, txt) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (txt !== undefined && txt !== null) n.textContent = String(txt);
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }

  function route() {
    var p = location.pathname;
    var m = /^[/]app[/]tasks[/]([0-9]{1,15})$/.exec(p);
    if (m) return { name: 'task', id: Number(m[1]) };
    if (p === '/app/new') return { name: 'new' };
    return { name: 'list' };
  }

  function zone() {
    try { return new Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; }
  }
  /** A time in the browser's zone, the zone named (an offset, and the IANA name where it helps). */
  function fmtTime(iso, withZone) {
    if (!iso) return t('none');
    var d = new Date(iso);
    if (isNaN(d.getTime())) return t('none');
    var s;
    try {
      s = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
        year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
      }).format(d);
    } catch (e) { s = d.toISOString(); }
    var z = zone();
    return withZone && z ? s + ' (' + z + ')' : s;
  }
  function who(by) {
    by = String(by || '');
    if (by.indexOf('app:') === 0) return by.slice(4) + ' · ' + t('viaApp');
    if (by.indexOf('api:') === 0) return by.slice(4) + ' · ' + t('viaApi');
    if (by === 'cli') return t('viaCli');
    if (by === 'dingtalk') return t('viaTodo');
    if (by === 'hub') return t('viaHub');
    // A person's name: a chat move says where it came from in its note ("from chat"), recorded by the hub.
    return by;
  }

  function api(method, path, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
    return fetch(path, {
      method: method, headers: headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
    });
  }
  function reason(r) {
    var e = r && r.body && r.body.error;
    return e && e.message ? String(e.message) : 'HTTP ' + (r ? r.status : '?');
  }

  function applyStatic() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    text('brand', view.name === 'new' ? t('newTask') : t('brand'));
    text('signout', t('signout')); text('dashboard', t('dashboard')); text('lang', t('langSwitch'));
    text('busy-text', t('loading')); text('signin-text', t('signinText')); text('signin-button', t('signinButton'));
    text('new-button', t('newTask'));
    ['open', 'in_progress', 'done'].forEach(function (s) { text('h-' + s, t(s)); });
    text('k-due', t('due')); text('k-assignees', t('assignees')); text('k-group', t('group'));
    text('k-priority', t('priority')); text('h-history', t('history')); text('h-sent', t('sent'));
    text('back-button', t('back')); text('k-edit-title', t('editTitle')); text('k-edit-desc', t('editDesc'));
    text('k-edit-due', t('editDue') + ' (' + zone() + ')'); text('e-save', t('save'));
    text('k-new-title', t('editTitle')); text('k-new-desc', t('editDesc')); text('k-new-who', t('who'));
    text('k-new-due', t('editDue') + ' (' + zone() + ')'); text('k-new-group', t('group'));
    text('k-new-priority', t('priority')); text('n-save', t('create'));
    var opts = $('n-priority').options;
    for (var i = 0; i < opts.length; i++) opts[i].textContent = t(opts[i].value);
  }

  function showOnly(id) {
    ['signin', 'busy', 'list', 'task', 'new'].forEach(function (x) { show(x, x === id); });
  }

  function showSignin(msg) {
    me = null; csrf = '';
    show('signout', false); show('dashboard', false); text('who', '');
    text('signin-error', msg || '');
    // Back to this page after DingTalk's login.
    $('signin-button').setAttribute('href', '/app/login?next=' + encodeURIComponent(location.pathname));
    showOnly('signin');
  }

  function signedIn(info) {
    me = info; csrf = info.csrf || '';
    text('who', info.name);
    show('signout', true);
    show('dashboard', !!info.operator);
    follow();
    render();
  }

  function render() {
    applyStatic();
    if (!me) return;
    if (view.name === 'task') return loadTask();
    if (view.name === 'new') return loadNew();
    return loadList();
  }

  function gone(r) {
    if (r.status === 401) { showSignin(t('expired')); return true; }
    return false;
  }

  function loadList() {
    return api('GET', '/app/api/tasks').then(function (r) {
      if (gone(r)) return;
      var groups = { open: [], in_progress: [], done: [] };
      (r.body.tasks || []).forEach(function (x) { if (groups[x.state]) groups[x.state].push(x); });
      Object.keys(groups).forEach(function (s) {
        var ul = $('l-' + s); clear(ul);
        if (groups[s].length === 0) ul.appendChild(el('li', 'empty', t('noTasks')));
        groups[s].forEach(function (x) {
          var li = el('li'); li.setAttribute('data-id', String(x.id));
          var a = el('a'); a.href = '/app/tasks/' + x.id;
          a.appendChild(el('div', 'title', x.title));
          var meta = el('div', 'meta');
          meta.appendChild(el('span', null, '#' + x.id));
          meta.appendChild(el('span', null, t('due') + ': ' + fmtTime(x.due, false)));
          if (x.priority !== 'normal') meta.appendChild(el('span', 'prio-' + x.priority, t(x.priority)));
          if (x.group) meta.appendChild(el('span', null, x.group));
          a.appendChild(meta); li.appendChild(a); ul.appendChild(li);
        });
      });
      showOnly('list');
    });
  }

  function loadTask() {
    return api('GET', '/app/api/tasks/' + view.id).then(function (r) {
      if (gone(r)) return;
      if (r.status !== 200) {
        showOnly('task');
        text('t-title', t('notFound')); text('t-error', '');
        ['t-state', 't-id', 't-desc', 't-due', 't-assignees', 't-group', 't-priority'].forEach(function (k) { text(k, ''); });
        clear($('t-actions')); clear($('t-history')); clear($('t-sent')); show('edit', false);
        return;
      }
      drawTask(r.body);
    });
  }

  function drawTask(d) {
    current = d;
    var x = d.task;
    var st = $('t-state'); st.className = 'state ' + x.state; st.textContent = t(x.state);
    text('t-id', '#' + x.id); text('t-title', x.title); text('t-desc', x.description || '');
    text('t-due', fmtTime(x.due, true));
    text('t-assignees', x.assignees.map(function (a) { return a.name; }).join(', '));
    text('t-group', x.group || t('none'));
    var p = $('t-priority'); p.className = 'prio-' + x.priority; p.textContent = t(x.priority);
    var box = $('t-actions'); clear(box);
    d.actions.forEach(function (a) {
      var b = el('button', a === 'done' ? 'primary' : a === 'cancel' ? 'danger' : '', t('act_' + a));
      b.type = 'button'; b.setAttribute('data-action', a);
      b.addEventListener('click', function () { act(a, b); });
      box.appendChild(b);
    });
    var h = $('t-history'); clear(h);
    x.history.forEach(function (ev) {
      var line = fmtTime(ev.at, false) + ' · ' + who(ev.by) + ' · ' + t('ev_' + ev.kind);
      h.appendChild(el('li', null, ev.note ? line + ' — ' + ev.note : line));
    });
    var s = $('t-sent'); clear(s);
    if (d.deliveries.length === 0) s.appendChild(el('li', 'empty', t('nothingSent')));
    d.deliveries.forEach(function (v) {
      var part = v.part ? ' (' + v.part.index + '/' + v.part.count + ')' : '';
      s.appendChild(el('li', null, t('ch_' + v.channel) + ' → ' + v.target + part + ' · ' + t('st_' + v.status) + ' · ' + fmtTime(v.updatedAt, false)));
    });
    show('edit', !!d.canEdit);
    if (d.canEdit && document.activeElement && document.activeElement.form !== $('edit')) {
      $('e-title').value = x.title; $('e-desc').value = x.description || ''; $('e-due').value = localInput(x.due);
    }
    text('t-error', '');
    showOnly('task');
  }

  function localInput(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function act(a, button) {
    button.disabled = true;
    api('POST', '/app/api/tasks/' + view.id + '/' + a).then(function (r) {
      button.disabled = false;
      if (gone(r)) return;
      if (r.status !== 200) { text('t-error', t('failed') + reason(r)); return; }
      drawTask(r.body);
    });
  }

  function saveEdit(ev) {
    ev.preventDefault();
    if (!current) return;
    var x = current.task; var patch = {};
    var title = $('e-title').value.trim(); var desc = $('e-desc').value; var due = $('e-due').value;
    if (title && title !== x.title) patch.title = title;
    if (desc !== (x.description || '')) patch.description = desc === '' ? null : desc;
    if (due && due !== localInput(x.due)) patch.due = new Date(due).toISOString();
    if (Object.keys(patch).length === 0) return;
    api('PATCH', '/app/api/tasks/' + view.id, patch).then(function (r) {
      if (gone(r)) return;
      if (r.status !== 200) { text('e-error', t('failed') + reason(r)); return; }
      text('e-error', ''); drawTask(r.body);
    });
  }

  function loadNew() {
    return api('GET', '/app/api/directory').then(function (r) {
      if (gone(r)) return;
      directory = r.body;
      var g = $('n-group'); clear(g);
      var none = el('option', null, t('noGroup')); none.value = ''; g.appendChild(none);
      (directory.groups || []).forEach(function (a) { var o = el('option', null, a); o.value = a; g.appendChild(o); });
      drawPeople();
      showOnly('new');
    });
  }

  function drawPeople() {
    var q = $('n-search').value.trim().toLowerCase();
    var box = $('n-people'); clear(box);
    (directory.people || []).forEach(function (name) {
      var on = chosen.indexOf(name) >= 0;
      if (!on && q && name.toLowerCase().indexOf(q) < 0) return;
      var b = el('button', 'chip' + (on ? ' on' : ''), name); b.type = 'button';
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.addEventListener('click', function () {
        if (on) chosen.splice(chosen.indexOf(name), 1); else chosen.push(name);
        drawPeople();
      });
      box.appendChild(b);
    });
  }

  function randomKey() {
    var a = new Uint8Array(16); window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  var pendingKey = randomKey();
  function saveNew(ev) {
    ev.preventDefault();
    if (chosen.length === 0) { text('n-error', t('pickSomeone')); return; }
    var body = {
      title: $('n-title').value.trim(), assignees: chosen.slice(), priority: $('n-priority').value,
      idempotencyKey: pendingKey
    };
    var desc = $('n-desc').value; if (desc) body.description = desc;
    var due = $('n-due').value; if (due) body.due = new Date(due).toISOString();
    var group = $('n-group').value; if (group) body.group = group;
    $('n-save').disabled = true;
    api('POST', '/app/api/tasks', body).then(function (r) {
      $('n-save').disabled = false;
      if (gone(r)) return;
      if (r.status !== 201) { text('n-error', t('failed') + reason(r)); return; }
      pendingKey = randomKey();
      location.assign('/app/tasks/' + r.body.task.id);
    });
  }

  var source = null;
  function follow() {
    if (source || typeof EventSource === 'undefined') return;
    source = new EventSource('/app/api/events');
    ['task.created', 'task.changed', 'task.edited', 'task.todo', 'task.synced', 'task.reminded', 'task.escalated']
      .forEach(function (name) {
        source.addEventListener(name, function (m) {
          var id = null;
          try { id = JSON.parse(m.data).id; } catch (e) { id = null; }
          if (view.name === 'task' && id !== view.id) return;
          if (view.name === 'new') return;
          if (reloadTimer) clearTimeout(reloadTimer);
          reloadTimer = setTimeout(function () { reloadTimer = null; render(); }, 150);
        });
      });
  }

  function start() {
    applyStatic();
    showOnly('busy');
    return api('GET', '/app/api/me').then(function (r) {
      if (r.status === 200) return signedIn(r.body);
      var jsapi = window.dingkitJsapi;
      var platform = jsapi ? jsapi.platform : 'notInDingTalk';
      if (!jsapi || platform === 'notInDingTalk') return showSignin('');
      return api('GET', '/app/api/client').then(function (c) {
        return jsapi.requestAuthCode({ corpId: c.body.corpId || '', clientId: c.body.clientId || '' });
      }).then(function (got) {
        return api('POST', '/app/session/dingtalk', { code: got.code });
      }).then(function (s) {
        if (s.status !== 200) return showSignin(t('signinFailed') + ' (' + reason(s) + ')');
        return api('GET', '/app/api/me').then(function (m) {
          if (m.status === 200) return signedIn(m.body);
          return showSignin(t('signinFailed'));
        });
      }).catch(function () { showSignin(t('signinFailed')); });
    });
  }

  $('lang').addEventListener('click', function () {
    lang = lang === 'zh' ? 'en' : 'zh';
    try { window.localStorage.setItem('dk-lang', lang); } catch (e) { lang = lang; }
    if (me) render(); else applyStatic();
  });
  $('signout').addEventListener('click', function () {
    api('POST', '/app/session/signout').then(function () {
      if (source) { source.close(); source = null; }
      showSignin('');
    });
  });
  $('edit').addEventListener('submit', saveEdit);
  $('new').addEventListener('submit', saveNew);
  $('n-search').addEventListener('input', drawPeople);
  start();
})();
`;

/**
 * The client's page logic, browser code (part of `app.js`, after markdown.ts): choose a person, poll the view
 * every second, draw chats, notices, Todos and the workbench, post as the person, click cards, tick Todos, open
 * pages in the phone frame and answer their 免登 requests (docs/emulator.md "The 免登 stand-in").
 *
 * Every value from the emulator is drawn with `textContent` or the markdown renderer (which does the same); no
 * `innerHTML` anywhere. The text is a template literal: no backslash, backtick or "${" of its own.
 */

export const CLIENT_APP = `
(function () {
  'use strict';
  var DK = window.DK;
  var el = DK.el;
  var $ = function (id) { return document.getElementById(id); };
  var USER_KEY = 'dingkit-emulator.user';
  var LANG_KEY = 'dingkit-emulator.lang';
  var REQUEST = 'dingkit-emulator:requestAuthCode';

  var WORDS = {
    zh: {
      pickTitle: '选择身份', pickHint: '你在模拟的钉钉里是谁？选择后会记在本页面中。', tabChats: '消息', tabTodos: '待办',
      tabWork: '工作台', send: '发送', notices: '工作通知', members: '人', noMessages: '还没有消息',
      composeGroup: '输入消息，@bot 开头即 @机器人', composeDirect: '给机器人发消息', dissolved: '群已解散',
      notified: '已通知（真实的 @）', silent: '未通知：只是文字，没有真实的 @', tick: '完成', done: '已完成',
      due: '截止', noTodos: '没有待办', noDetail: '这个待办没有 detailUrl', noHomepage: '没有设置首页 (homepageUrl)',
      open: '打开', clicked: '已点击，回调已发给应用', ticked: '已完成，事件已发给应用', recalled: '消息已撤回',
      file: '文件', download: '下载', noFile: '模拟器里没有这个文件的内容', refusedFrame: '只在手机框里打开本机 (loopback) 页面',
      switchUser: '切换身份', you: '你', bot: '机器人', notLoopback: '不是本机地址，已在新标签页打开',
      authGiven: '已给页面一个免登 code', authRefused: '免登请求被拒绝', card: '互动卡片', clicks: '次点击'
    },
    en: {
      pickTitle: 'Choose who you are', pickHint: 'Who are you in the emulated DingTalk? The page remembers it.',
      tabChats: 'Chats', tabTodos: 'Todos', tabWork: 'Workbench', send: 'Send', notices: 'Work notices',
      members: 'people', noMessages: 'No messages yet', composeGroup: 'Type a message; start with @bot to reach the bot',
      composeDirect: 'Message the bot', dissolved: 'group dissolved', notified: 'notified (a real @)',
      silent: 'not notified: text only, no real @', tick: 'Done', done: 'done', due: 'due', noTodos: 'No Todos',
      noDetail: 'this Todo has no detailUrl', noHomepage: 'no homepageUrl set', open: 'Open',
      clicked: 'clicked: the callback went to the app', ticked: 'done: the event went to the app',
      recalled: 'message recalled', file: 'file', download: 'Download', noFile: 'the emulator does not hold this file',
      refusedFrame: 'only loopback pages open in the phone frame', switchUser: 'Switch person', you: 'you', bot: 'bot',
      notLoopback: 'not a loopback page: opened in a new tab', authGiven: 'gave the page a 免登 code',
      authRefused: '免登 request refused', card: 'Interactive card', clicks: 'clicks'
    }
  };

  var st = {
    user: localStorage.getItem(USER_KEY),
    lang: localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh',
    tab: 'chats',
    conv: null,
    view: null,
    last: '',
    frame: null,
    drawn: ''
  };

  function t(k) { return (WORDS[st.lang] && WORDS[st.lang][k]) || WORDS.zh[k] || k; }
  function enc(s) { return encodeURIComponent(s); }
  function initials(name) { return String(name || '?').trim().slice(0, 2) || '?'; }
  function avatar(name, cls) { return el('span', 'avatar' + (cls ? ' ' + cls : ''), initials(name)); }
  function time(ms) {
    var d = new Date(ms);
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    return p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function size(n) {
    if (typeof n !== 'number') return '';
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1048576).toFixed(1) + ' MB';
  }
  function str(v) { return typeof v === 'string' ? v : (typeof v === 'number' ? String(v) : ''); }
  function obj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {}; }

  var toastTimer = 0;
  function toast(msg) {
    var s = $('status');
    s.textContent = msg;
    s.classList.add('on');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { s.classList.remove('on'); }, 2500);
  }

  // The control API: same origin, JSON bodies (control/guard.ts refuses anything else).
  function api(method, path, body) {
    var init = { method: method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (txt) {
        var j = null;
        try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
        return { ok: r.ok, status: r.status, body: j };
      });
    }, function (e) { return { ok: false, status: 0, body: { error: String(e && e.message || e) } }; });
  }
  function why(r) { return (r.body && r.body.error) || ('HTTP ' + r.status); }

  function me() { return st.view && st.view.me; }

  // ---- mentions ----
  DK.mention = function (tok) {
    var s = el('span', 'mention' + (tok.notified ? '' : ' silent') + (tok.me ? ' me' : ''), tok.label);
    s.title = tok.notified ? t('notified') : t('silent');
    s.setAttribute('data-notified', tok.notified ? 'true' : 'false');
    if (tok.userId) s.setAttribute('data-user', tok.userId);
    if (tok.seen && tok.userId) tok.seen[tok.userId] = true;
    return s;
  };

  function mentionCtx(group, m) {
    var tokens = [];
    var seen = {};
    var mine = me() ? me().userId : '';
    var all = m.isAtAll === true;
    var ats = m.atUserIds || [];
    (group ? group.members : []).forEach(function (u) {
      var notified = all || ats.indexOf(u.userId) >= 0;
      [u.name, u.userId, u.mobile].forEach(function (k) {
        if (k) tokens.push({ token: '@' + k, label: '@' + u.name, notified: notified, me: u.userId === mine, userId: u.userId, seen: seen });
      });
    });
    if (group && group.bot) {
      tokens.push({ token: '@' + group.bot.name, label: '@' + group.bot.name, notified: !!m.atBot });
      tokens.push({ token: '@bot', label: '@' + group.bot.name, notified: !!m.atBot });
    }
    tokens.push({ token: '@所有人', label: '@所有人', notified: all });
    tokens.push({ token: '@all', label: '@所有人', notified: all });
    tokens.sort(function (a, b) { return b.token.length - a.token.length; });
    return { tokens: tokens, seen: seen };
  }

  // ---- message bodies ----
  function bubble(cls) { return el('div', 'bubble' + (cls ? ' ' + cls : '')); }
  function textBubble(s, ctx) { var b = bubble(); DK.text(b, str(s), ctx); return b; }
  function mdBubble(title, body, ctx) {
    var b = bubble('md');
    DK.markdown(b, str(body) || str(title), ctx);
    return b;
  }
  function linkBubble(title, text, url) {
    var b = bubble('md');
    var h = el('div', 'card-title');
    DK.link(h, str(title) || str(url), url);
    b.appendChild(h);
    if (str(text)) b.appendChild(el('div', 'sub', str(text)));
    return b;
  }
  function actionBubble(title, text, buttons, vertical, ctx) {
    var b = bubble('md');
    if (str(title)) b.appendChild(el('div', 'card-title', str(title)));
    DK.markdown(b, str(text), ctx);
    var row = el('div', 'btns' + (vertical ? ' v' : ''));
    buttons.forEach(function (x) {
      var btn = el('button', null, str(x.title) || str(x.url));
      btn.type = 'button';
      var href = DK.safeUrl(x.url);
      if (!href) btn.disabled = true;
      btn.addEventListener('click', function () { openUrl(href, str(x.title)); });
      row.appendChild(btn);
    });
    if (buttons.length) b.appendChild(row);
    return b;
  }
  function fileBubble(f, picture) {
    var b = bubble('file');
    b.appendChild(el('span', 'icon', picture ? 'IMG' : (str(f.name).split('.').pop() || 'FILE').slice(0, 4).toUpperCase()));
    var col = el('div', 'meta');
    col.appendChild(el('div', 'card-title', str(f.name)));
    col.appendChild(el('div', 'sub', size(f.size)));
    if (f.url && f.url.indexOf('/_emulator/files/') === 0) {
      var a = el('a', null, t('download'));
      a.href = f.url;
      a.setAttribute('download', str(f.name));
      col.appendChild(a);
    } else {
      col.appendChild(el('div', 'sub', t('noFile')));
    }
    b.appendChild(col);
    return b;
  }
  function numbered(c, titleKey, urlKey, max) {
    var out = [];
    for (var i = 1; i <= max; i++) {
      if (c[titleKey + i] !== undefined) out.push({ title: c[titleKey + i], url: c[urlKey + i] });
    }
    return out;
  }
  function cardButtons(p) {
    var raw = p.buttons || p.actions;
    var list = [];
    if (typeof raw === 'string') {
      try { list = JSON.parse(raw); } catch (e) { list = []; }
    }
    if (!Array.isArray(list)) list = [];
    return list.filter(function (b) { return b && typeof b === 'object'; }).slice(0, 6);
  }
  // status: a badge by the title; state: its code, for the badge's colour; lastAction: a line under the body;
  // note: what the app told this person alone (their private data, docs/dingtalk.md §10).
  var CARD_SHOWN = ['title', 'header', 'content', 'markdown', 'text', 'buttons', 'actions', 'status', 'state', 'lastAction', 'note'];
  var CARD_STATES = ['open', 'in_progress', 'done', 'cancelled', 'firing', 'resolved'];
  function cardBubble(m) {
    var c = m.card;
    var p = obj(c.params);
    var b = bubble('md card');
    b.setAttribute('data-card', c.outTrackId);
    var head = el('div', 'card-title', str(p.title) || str(p.header) || t('card'));
    if (str(p.status)) {
      var badge = el('span', 'badge', str(p.status));
      badge.setAttribute('data-state', CARD_STATES.indexOf(str(p.state)) >= 0 ? str(p.state) : '');
      head.appendChild(badge);
    }
    b.appendChild(head);
    var body = str(p.content) || str(p.markdown) || str(p.text);
    if (body) DK.markdown(b, body, null);
    if (str(p.lastAction)) b.appendChild(el('div', 'sub last-action', str(p.lastAction)));
    if (str(p.note)) b.appendChild(el('div', 'card-note', str(p.note)));
    var rest = Object.keys(p).filter(function (k) { return CARD_SHOWN.indexOf(k) < 0; });
    if (rest.length) {
      var box = el('div', 'params');
      rest.slice(0, 12).forEach(function (k) { box.appendChild(el('div', null, k + ': ' + str(p[k]))); });
      b.appendChild(box);
    }
    var row = el('div', 'btns');
    var buttons = cardButtons(p);
    if (!buttons.length) buttons = [{ id: '', text: st.lang === 'en' ? 'Click' : '点击' }];
    buttons.forEach(function (x) {
      var label = str(x.text) || str(x.title) || str(x.label) || str(x.id);
      var btn = el('button', null, label);
      btn.type = 'button';
      var id = str(x.id) || str(x.actionId);
      btn.setAttribute('data-action', id);
      // A button with a url is a link (a card template's "open page" action): it opens, nothing is called back.
      if (x.url !== undefined) {
        var href = DK.safeUrl(x.url);
        if (!href) btn.disabled = true;
        btn.addEventListener('click', function () { openUrl(href, label); });
      } else {
        btn.addEventListener('click', function () { clickCard(c.outTrackId, id, btn); });
      }
      row.appendChild(btn);
    });
    b.appendChild(row);
    b.appendChild(el('div', 'sub', c.clicks + ' ' + t('clicks')));
    return b;
  }

  function messageBody(m, ctx) {
    if (m.recalled) return el('div', 'bubble recalled', t('recalled'));
    if (m.card) return cardBubble(m);
    if (m.file) return fileBubble(m.file, m.type === 'picture');
    var c = obj(m.content);
    var ty = m.type;
    var o = c[ty] && typeof c[ty] === 'object' ? obj(c[ty]) : c;
    switch (ty) {
      case 'text': return textBubble(o.content !== undefined ? o.content : m.text, ctx);
      case 'markdown': return mdBubble(o.title, o.text, ctx);
      case 'link': return linkBubble(o.title, o.text, o.messageUrl);
      case 'actionCard': {
        var btns = typeof o.singleTitle === 'string' && typeof o.singleURL === 'string'
          ? [{ title: o.singleTitle, url: o.singleURL }]
          : (Array.isArray(o.btns) ? o.btns : []).map(function (x) { x = obj(x); return { title: x.title, url: x.actionURL }; });
        return actionBubble(o.title, o.text, btns, str(o.btnOrientation) !== '1', ctx);
      }
      case 'feedCard': {
        var b = bubble('md');
        var ul = el('ul', 'feed');
        (Array.isArray(o.links) ? o.links : []).forEach(function (l) {
          l = obj(l);
          var li = el('li');
          DK.link(li, str(l.title), l.messageURL);
          ul.appendChild(li);
        });
        b.appendChild(ul);
        return b;
      }
      case 'sampleText': return textBubble(c.content, ctx);
      case 'sampleMarkdown': return mdBubble(c.title, c.text, ctx);
      case 'sampleLink': return linkBubble(c.title, c.text, c.messageUrl);
      case 'sampleImageMsg': { var bi = bubble(); DK.link(bi, '[图片]', c.photoURL); return bi; }
      case 'sampleActionCard': return actionBubble(c.title, c.text, [{ title: c.singleTitle, url: c.singleURL }], true, ctx);
      case 'sampleActionCard2': case 'sampleActionCard3': case 'sampleActionCard4': case 'sampleActionCard5':
        return actionBubble(c.title, c.text, numbered(c, 'actionTitle', 'actionURL', 5), ty !== 'sampleActionCard2', ctx);
      case 'sampleActionCard6': return actionBubble(c.title, c.text, numbered(c, 'buttonTitle', 'buttonUrl', 2), false, ctx);
      case 'sampleAudio': return textBubble('[语音]', null);
      case 'sampleVideo': return textBubble('[视频]', null);
      case 'picture': return textBubble('[图片]', null);
      default: return textBubble(m.text, ctx);
    }
  }

  function noticeBody(n) {
    if (n.recalled) return el('div', 'bubble recalled', t('recalled'));
    if (n.file) return fileBubble(n.file, false);
    var msg = obj(n.msg);
    var ty = str(msg.msgtype);
    var o = obj(msg[ty]);
    switch (ty) {
      case 'text': return textBubble(o.content, null);
      case 'markdown': return mdBubble(o.title, o.text, null);
      case 'link': return linkBubble(o.title, o.text, o.messageUrl);
      case 'oa': {
        var b = bubble('md');
        var head = obj(o.head);
        var body = obj(o.body);
        if (str(head.text)) b.appendChild(el('div', 'sub', str(head.text)));
        var h = el('div', 'card-title');
        DK.link(h, str(body.title) || str(o.message_url), o.message_url);
        b.appendChild(h);
        if (Array.isArray(body.form)) {
          var box = el('div', 'params');
          body.form.slice(0, 20).forEach(function (f) { f = obj(f); box.appendChild(el('div', null, str(f.key) + ' ' + str(f.value))); });
          b.appendChild(box);
        }
        if (str(body.content)) b.appendChild(el('div', null, str(body.content)));
        if (str(body.author)) b.appendChild(el('div', 'sub', str(body.author)));
        return b;
      }
      case 'action_card': {
        var btns = typeof o.single_title === 'string'
          ? [{ title: o.single_title, url: o.single_url }]
          : (Array.isArray(o.btn_json_list) ? o.btn_json_list : []).map(function (x) { x = obj(x); return { title: x.title, url: x.action_url }; });
        return actionBubble(o.title, o.markdown, btns, str(o.btn_orientation) !== '1', null);
      }
      case 'image': return textBubble('[图片]', null);
      case 'voice': return textBubble('[语音]', null);
      default: return textBubble(JSON.stringify(msg), null);
    }
  }

  // ---- actions ----
  function clickCard(outTrackId, actionId, btn) {
    if (!me()) return;
    btn.disabled = true;
    api('POST', '/_emulator/cards/' + enc(outTrackId) + '/click', {
      by: me().userId, actionIds: actionId ? [actionId] : [], params: {}
    }).then(function (r) {
      btn.disabled = false;
      toast(r.ok ? t('clicked') : why(r));
      poll(true);
    });
  }

  function tickTodo(todo, btn) {
    if (!me()) return;
    btn.disabled = true;
    api('POST', '/_emulator/todos/' + enc(todo.id) + '/done', { by: me().unionId }).then(function (r) {
      $('todo-error').textContent = r.ok ? '' : why(r);
      if (r.ok) toast(t('ticked'));
      else btn.disabled = false;
      poll(true);
    });
  }

  function currentGroup() {
    if (!st.view || !st.conv || st.conv.indexOf('g:') !== 0) return null;
    var id = st.conv.slice(2);
    return st.view.groups.filter(function (g) { return g.id === id; })[0] || null;
  }

  // "@bot done 3" (or "@<robot name> ...") reaches the bot, the prefix stripped as DingTalk strips the @robot;
  // "@<name>" or "@<userId>" of a member is a real @ of that member.
  function composeGroup(g, raw) {
    var text = raw.trim();
    var atBot = false;
    if (g.bot) {
      var prefixes = ['@bot', '@' + g.bot.name];
      for (var i = 0; i < prefixes.length; i++) {
        var p = prefixes[i];
        if (text.toLowerCase().indexOf(p.toLowerCase()) === 0) {
          atBot = true;
          text = text.slice(p.length).trim();
          break;
        }
      }
    }
    var ats = [];
    g.members.forEach(function (u) {
      if (text.indexOf('@' + u.name) >= 0 || text.indexOf('@' + u.userId) >= 0) ats.push(u.userId);
    });
    var body = { from: me().userId, text: text };
    if (atBot) body.atBot = true;
    if (ats.length) body.atUserIds = ats;
    return body;
  }

  function send(ev) {
    ev.preventDefault();
    var input = $('compose-text');
    var raw = input.value;
    if (!raw.trim() || !me()) return;
    var g = currentGroup();
    var req;
    if (g) req = api('POST', '/_emulator/groups/' + enc(g.id) + '/messages', composeGroup(g, raw));
    else if (st.conv === 'oto') req = api('POST', '/_emulator/users/' + enc(me().userId) + '/messages', { text: raw.trim() });
    else return;
    $('compose-error').textContent = '';
    req.then(function (r) {
      if (r.ok) input.value = '';
      else $('compose-error').textContent = why(r);
      poll(true);
    });
  }

  // ---- the phone frame and the 免登 stand-in ----
  function frameable(href) {
    var u;
    try { u = new URL(href); } catch (e) { return false; }
    var loop = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
    return u.protocol === 'http:' && loop && u.origin !== location.origin;
  }
  function openFrame(href, title) {
    var f = $('phone-frame');
    st.frame = { origin: new URL(href).origin, url: href };
    $('phone-title').textContent = title || '';
    $('phone-origin').textContent = st.frame.origin;
    f.src = href;
    $('phone').classList.remove('hidden');
  }
  function closeFrame() {
    st.frame = null;
    $('phone-frame').src = 'about:blank';
    $('phone').classList.add('hidden');
  }
  function openUrl(href, title) {
    if (!href) return;
    if (frameable(href)) { openFrame(href, title); return; }
    toast(t('notLoopback'));
    window.open(href, '_blank', 'noopener,noreferrer');
  }
  // Links in messages: loopback pages go to the phone frame, the rest to a new tab (the anchor's own behaviour).
  DK.open = function (href, title) {
    if (!frameable(href)) return false;
    openFrame(href, title);
    return true;
  };

  window.addEventListener('message', function (ev) {
    var d = ev.data;
    if (!d || typeof d !== 'object' || d.type !== REQUEST) return;
    var f = st.frame;
    var frame = $('phone-frame');
    // Only the page this client opened, at the origin it was opened on, is answered; anything else gets nothing.
    if (!f || ev.source !== frame.contentWindow || ev.origin !== f.origin) return;
    var reply = function (msg) {
      if (st.frame === f && frame.contentWindow) frame.contentWindow.postMessage(msg, f.origin);
    };
    var fail = function (reason) {
      toast(t('authRefused') + ': ' + reason);
      reply({ type: 'dingkit-emulator:authCodeError', reason: reason });
    };
    var who = me();
    if (!who || !st.view) return fail('no person is chosen in the emulated client');
    if (typeof d.clientId !== 'string' || d.clientId === '') return fail('clientId (the appKey) is required');
    if (d.corpId !== st.view.org.corpId) return fail('corpId is not the corpId of this org');
    api('POST', '/_emulator/users/' + enc(who.userId) + '/auth-code', { appKey: d.clientId }).then(function (r) {
      if (r.ok && r.body && typeof r.body.code === 'string') {
        toast(t('authGiven'));
        reply({ type: 'dingkit-emulator:authCode', code: r.body.code });
      } else fail(why(r));
    });
  });

  // ---- drawing ----
  // The chat list's one-line preview, as DingTalk shows it: a card's or markdown's title, a file's name.
  function preview(m) {
    if (m.recalled) return t('recalled');
    if (m.card) return '[' + t('card') + '] ' + (str(obj(m.card.params).title) || '');
    if (m.file) return '[' + t('file') + '] ' + str(m.file.name);
    var c = obj(m.content);
    var o = obj(c[m.type]);
    var title = str(o.title) || (m.type.indexOf('sample') === 0 && m.type !== 'sampleText' ? str(c.title) : '');
    return title ? '[' + title + ']' : (m.text || m.type);
  }

  function chatEntries() {
    var v = st.view;
    var out = [];
    v.groups.forEach(function (g) {
      out.push({ id: 'g:' + g.id, name: g.name, sub: g.members.length + ' ' + t('members'), last: g.messages[g.messages.length - 1], kind: '', unread: unread(g.messages) });
    });
    if (v.direct) out.push({ id: 'oto', name: v.direct.bot.name, sub: t('bot'), last: v.direct.messages[v.direct.messages.length - 1], kind: 'bot', unread: unread(v.direct.messages) });
    out.push({ id: 'notices', name: t('notices'), sub: '', last: null, notice: v.notices[v.notices.length - 1], kind: 'notice' });
    return out;
  }

  function drawChats() {
    var ul = $('chats');
    ul.textContent = '';
    chatEntries().forEach(function (c) {
      var li = el('li');
      var b = el('button', st.conv === c.id ? 'on' : '');
      b.type = 'button';
      b.setAttribute('data-conv', c.id);
      b.appendChild(avatar(c.name, c.kind));
      var meta = el('span', 'meta');
      meta.appendChild(el('div', 'name', c.name));
      var last = c.last ? ((c.last.from ? c.last.from.name : (c.last.robot || '')) + ': ' + preview(c.last)) : (c.notice ? time(c.notice.at) : c.sub);
      meta.appendChild(el('div', 'last', last));
      b.appendChild(meta);
      if (c.unread && st.conv !== c.id) b.appendChild(el('span', 'unread', c.unread > 99 ? '99+' : String(c.unread)));
      b.addEventListener('click', function () { st.conv = c.id; st.drawn = ''; layout(); draw(); });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function drawMessage(list, m, group, mine) {
    var li = el('li', 'msg' + (mine ? ' mine' : ''));
    li.setAttribute('data-seq', String(m.seq));
    var name = m.from ? m.from.name : (m.robot || '');
    li.appendChild(avatar(name, m.from ? '' : 'bot'));
    var col = el('div', 'col');
    var who = el('div', 'who', name + ' · ' + time(m.at));
    col.appendChild(who);
    var ctx = group ? mentionCtx(group, m) : null;
    var b = messageBody(m, ctx);
    if (m.atBot && group) {
      var tok = { token: '', label: '@' + m.atBot, notified: true };
      b.insertBefore(document.createTextNode(' '), b.firstChild);
      b.insertBefore(DK.mention(tok), b.firstChild);
    }
    col.appendChild(b);
    // A real @ whose name is not in the text (DingTalk still notifies): listed under the message.
    if (group && ctx) {
      var extra = el('div', 'ats');
      (m.atUserIds || []).forEach(function (id) {
        if (ctx.seen[id]) return;
        var u = group.members.filter(function (x) { return x.userId === id; })[0];
        if (u) extra.appendChild(DK.mention({ label: '@' + u.name, notified: true, me: me() && u.userId === me().userId, userId: u.userId }));
      });
      if (m.isAtAll && !b.querySelector('.mention[data-notified=true]')) extra.appendChild(DK.mention({ label: '@所有人', notified: true }));
      if (extra.childNodes.length) col.appendChild(extra);
    }
    li.appendChild(col);
    list.appendChild(li);
  }

  function drawChat() {
    var v = st.view;
    var list = $('messages');
    var g = currentGroup();
    var title = '';
    var sub = '';
    var composer = true;
    var placeholder = t('composeGroup');
    var items = [];
    if (g) {
      title = g.name;
      sub = g.members.map(function (u) { return u.name; }).join('、') + (g.dissolved ? ' · ' + t('dissolved') : '');
      items = g.messages;
      composer = !g.dissolved;
    } else if (st.conv === 'oto' && v.direct) {
      title = v.direct.bot.name;
      sub = t('bot');
      items = v.direct.messages;
      placeholder = t('composeDirect');
    } else if (st.conv === 'notices') {
      title = t('notices');
      composer = false;
    } else {
      st.conv = null;
      layout();
      return;
    }
    $('chat-title').textContent = title;
    $('chat-sub').textContent = sub;
    $('composer').classList.toggle('hidden', !composer);
    $('compose-text').placeholder = placeholder;
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.textContent = '';
    var mine = me() ? me().userId : '';
    if (st.conv === 'notices') {
      v.notices.forEach(function (n) {
        var li = el('li', 'msg');
        li.setAttribute('data-notice', String(n.taskId));
        li.appendChild(avatar(n.app, 'notice'));
        var col = el('div', 'col');
        col.appendChild(el('div', 'who', n.app + ' · ' + time(n.at)));
        col.appendChild(noticeBody(n));
        li.appendChild(col);
        list.appendChild(li);
      });
      if (!v.notices.length) list.appendChild(el('li', 'sub', t('noMessages')));
      readNotices(v.notices);
    } else {
      items.forEach(function (m) { drawMessage(list, m, g, m.from && m.from.userId === mine); });
      if (!items.length) list.appendChild(el('li', 'sub', t('noMessages')));
    }
    if (nearBottom || st.drawn !== st.conv) list.scrollTop = list.scrollHeight;
    st.drawn = st.conv;
    markRead(items);
  }

  // Opening a chat reads its messages, as DingTalk does: the app robot's read status (§3.1) sees it.
  var reading = {};
  function markRead(items) {
    if (!me() || document.hidden) return;
    items.forEach(function (m) {
      if (m.read || reading[m.seq]) return;
      reading[m.seq] = true;
      api('POST', '/_emulator/messages/' + m.seq + '/read', { by: me().userId });
    });
  }
  // Opening the work-notice conversation reads its notices: the send result's read list (§5.1) sees it.
  var readingNotice = {};
  function readNotices(list) {
    if (!me() || document.hidden) return;
    list.forEach(function (n) {
      if (n.read || n.recalled || readingNotice[n.taskId]) return;
      readingNotice[n.taskId] = true;
      api('POST', '/_emulator/notices/' + n.taskId + '/read', { by: me().userId });
    });
  }
  function unread(list) {
    return list.filter(function (m) { return !m.read; }).length;
  }

  function drawTodos() {
    var ul = $('todo-list');
    ul.textContent = '';
    var todos = st.view.todos.slice().sort(function (a, b) { return (a.done ? 1 : 0) - (b.done ? 1 : 0); });
    if (!todos.length) ul.appendChild(el('li', 'sub', t('noTodos')));
    todos.forEach(function (td) {
      var li = el('li', 'todo' + (td.done ? ' done' : ''));
      li.setAttribute('data-todo', td.id);
      var tick = el('button', 'tick', td.done ? '✓' : '');
      tick.type = 'button';
      tick.title = td.done ? t('done') : t('tick');
      tick.setAttribute('aria-label', tick.title);
      tick.disabled = td.done || !td.canTick;
      tick.addEventListener('click', function () { tickTodo(td, tick); });
      li.appendChild(tick);
      var open = el('button', 'open');
      open.type = 'button';
      open.appendChild(el('div', 'subject', td.subject));
      var line = [];
      if (td.dueTime) line.push(t('due') + ' ' + time(td.dueTime));
      if (td.description) line.push(td.description);
      if (line.length) open.appendChild(el('div', 'sub', line.join(' · ')));
      open.addEventListener('click', function () {
        var href = DK.safeUrl(td.appUrl || td.pcUrl || '');
        if (!href) { toast(t('noDetail')); return; }
        openUrl(href, td.subject);
      });
      li.appendChild(open);
      ul.appendChild(li);
    });
  }

  function drawWork() {
    var ul = $('app-list');
    ul.textContent = '';
    st.view.apps.forEach(function (a) {
      var li = el('li');
      var b = el('button');
      b.type = 'button';
      b.setAttribute('data-app', a.appKey);
      b.appendChild(avatar(a.name, 'bot'));
      var meta = el('span', 'meta');
      meta.appendChild(el('div', 'name', a.name));
      meta.appendChild(el('div', 'sub', a.homepageUrl || t('noHomepage')));
      b.appendChild(meta);
      b.disabled = !a.homepageUrl;
      b.addEventListener('click', function () {
        var href = DK.safeUrl(String(a.homepageUrl || '').split('$CORPID$').join(enc(st.view.org.corpId)));
        if (href) openUrl(href, a.name);
      });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function drawPick() {
    var ul = $('people');
    ul.textContent = '';
    (st.view ? st.view.people : []).forEach(function (p) {
      var li = el('li');
      var b = el('button');
      b.type = 'button';
      b.setAttribute('data-user', p.userId);
      b.appendChild(avatar(p.name));
      var meta = el('span', 'meta');
      meta.appendChild(el('div', 'name', p.name));
      meta.appendChild(el('div', 'sub', p.userId + (p.title ? ' · ' + p.title : '')));
      b.appendChild(meta);
      b.addEventListener('click', function () {
        st.user = p.userId;
        localStorage.setItem(USER_KEY, p.userId);
        st.conv = null;
        st.last = '';
        closeFrame();
        poll(true);
      });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  var wide = window.matchMedia('(min-width: 900px)');
  function layout() {
    var picking = !me();
    $('pick').classList.toggle('hidden', !picking);
    $('shell').classList.toggle('hidden', picking);
    var inChat = st.tab === 'chats' && !!st.conv;
    $('list').classList.toggle('hidden', !wide.matches && (st.tab !== 'chats' || inChat));
    $('chat').classList.toggle('hidden', !inChat);
    $('todos').classList.toggle('hidden', st.tab !== 'todos');
    $('work').classList.toggle('hidden', st.tab !== 'work');
    document.querySelector('.tabs').classList.toggle('hidden', !wide.matches && inChat);
    Array.prototype.forEach.call(document.querySelectorAll('.tab'), function (b) {
      b.classList.toggle('on', b.getAttribute('data-tab') === st.tab);
    });
  }

  function words() {
    document.documentElement.lang = st.lang === 'en' ? 'en' : 'zh-CN';
    Array.prototype.forEach.call(document.querySelectorAll('[data-t]'), function (n) { n.textContent = t(n.getAttribute('data-t')); });
    $('lang').textContent = st.lang === 'en' ? '中文' : 'EN';
  }

  function draw() {
    var v = st.view;
    if (!v) return;
    $('org').textContent = v.org.name;
    $('who').textContent = me() ? me().name : '';
    $('who').classList.toggle('hidden', !me());
    $('who').title = t('switchUser');
    layout();
    if (!me()) { drawPick(); return; }
    drawChats();
    if (st.conv) drawChat();
    if (st.tab === 'todos') drawTodos();
    if (st.tab === 'work') drawWork();
  }

  // ---- live: the view every second, drawn again only when it changed ----
  var timer = 0;
  function poll(now) {
    clearTimeout(timer);
    var q = st.user ? '?user=' + enc(st.user) : '';
    return api('GET', '/_emulator/client/view' + q).then(function (r) {
      if (r.ok && r.body) {
        var txt = JSON.stringify(r.body);
        if (txt !== st.last || now === true) {
          st.last = txt;
          st.view = r.body;
          if (st.user && !r.body.me) { st.user = null; localStorage.removeItem(USER_KEY); }
          if (document.activeElement && document.activeElement.id === 'compose-text') {
            var keep = document.activeElement;
            draw();
            keep.focus();
          } else draw();
        }
      }
      timer = setTimeout(poll, 1000);
    });
  }

  function start() {
    words();
    $('composer').addEventListener('submit', send);
    $('back').addEventListener('click', function () { st.conv = null; layout(); drawChats(); });
    $('who').addEventListener('click', function () {
      st.user = null;
      localStorage.removeItem(USER_KEY);
      st.view = st.view ? Object.assign({}, st.view, { me: undefined }) : null;
      closeFrame();
      draw();
    });
    $('lang').addEventListener('click', function () {
      st.lang = st.lang === 'en' ? 'zh' : 'en';
      localStorage.setItem(LANG_KEY, st.lang);
      words();
      draw();
    });
    $('phone-close').addEventListener('click', closeFrame);
    Array.prototype.forEach.call(document.querySelectorAll('.tab'), function (b) {
      b.addEventListener('click', function () { st.tab = b.getAttribute('data-tab'); layout(); draw(); });
    });
    wide.addEventListener('change', layout);
    poll(true);
  }
  start();
})();
`;

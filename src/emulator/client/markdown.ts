/**
 * The client's markdown renderer, browser code (part of `app.js`). DingTalk's subset (docs/dingtalk.md §2.4):
 * headings, bold, italic, links, images (shown as links), ordered and unordered lists, quotes, rules, inline code
 * and line breaks. It builds DOM nodes with `createElement` and `textContent` only: no text ever becomes HTML, so
 * `<img onerror>` in a message is shown as the characters it is. A link is made only for `http:`/`https:` URLs
 * (and the `dingtalk://` page links of §13.4, unwrapped to the http(s) page they carry); any other scheme
 * (`javascript:`, `data:`) stays text.
 *
 * The text is a raw template (String.raw) and must contain no backtick and no "${" of its own; a backtick in the
 * renderer is written as its escape, which the browser reads inside the script's string literal.
 */

export const CLIENT_MARKDOWN = String.raw`
var DK = window.DK = window.DK || {};
(function () {
  'use strict';
  var BT = '\x60';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  DK.el = el;

  // dingtalk://dingtalkclient/page/link?url=<encoded> and .../action/openapp?...&redirect_url=<encoded> carry an
  // http(s) page (docs/dingtalk.md §13.4): that page is what a person would see.
  function safeUrl(raw) {
    if (typeof raw !== 'string') return null;
    var s = raw.trim();
    var u;
    try { u = new URL(s); } catch (e) { return null; }
    if (u.protocol === 'dingtalk:') {
      var inner = u.searchParams.get('url') || u.searchParams.get('redirect_url');
      if (!inner) return null;
      return safeUrl(inner);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.href;
  }
  DK.safeUrl = safeUrl;

  // A link opens through DK.open (the phone frame for loopback pages, a new tab otherwise); a refused URL is text.
  function link(parent, label, url) {
    var href = safeUrl(url);
    if (!href) { parent.appendChild(document.createTextNode(label)); return; }
    var a = el('a', null, label);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.addEventListener('click', function (ev) {
      if (DK.open && DK.open(href, label)) ev.preventDefault();
    });
    parent.appendChild(a);
  }
  DK.link = link;

  // Text with @-mentions: each token of ctx.tokens found after an '@' becomes a highlighted span.
  function text(parent, s, ctx) {
    var tokens = (ctx && ctx.tokens) || [];
    var buf = '';
    var i = 0;
    function flush() { if (buf) { parent.appendChild(document.createTextNode(buf)); buf = ''; } }
    while (i < s.length) {
      if (s.charAt(i) === '@' && tokens.length) {
        var hit = null;
        for (var k = 0; k < tokens.length; k++) {
          if (s.substr(i, tokens[k].token.length) === tokens[k].token) { hit = tokens[k]; break; }
        }
        if (hit) {
          flush();
          parent.appendChild(DK.mention(hit));
          i += hit.token.length;
          continue;
        }
      }
      buf += s.charAt(i);
      i++;
    }
    flush();
  }
  DK.text = text;

  function closing(s, from, mark) {
    var j = s.indexOf(mark, from);
    return j > from ? j : -1;
  }

  // [label](url) starting at s[i] === '['; null when it is not one.
  function bracketLink(s, i) {
    var close = s.indexOf(']', i + 1);
    if (close < 0 || s.charAt(close + 1) !== '(') return null;
    var end = s.indexOf(')', close + 2);
    if (end < 0) return null;
    var url = s.slice(close + 2, end).trim().split(' ')[0];
    return { label: s.slice(i + 1, close), url: url, end: end + 1 };
  }

  function wordChar(c) { return /[A-Za-z0-9]/.test(c || ''); }

  function inline(parent, s, ctx, depth) {
    depth = depth || 0;
    var buf = '';
    var i = 0;
    function flush() { if (buf) { text(parent, buf, ctx); buf = ''; } }
    while (i < s.length) {
      var c = s.charAt(i);
      var m, j, node;
      if (depth < 8) {
        if (c === '!' && s.charAt(i + 1) === '[' && (m = bracketLink(s, i + 1))) {
          flush();
          // Images are shown as links to the picture (the client loads nothing from other origins).
          link(parent, '[图片] ' + (m.label || m.url), m.url);
          i = m.end;
          continue;
        }
        if (c === '[' && (m = bracketLink(s, i))) {
          flush();
          link(parent, m.label || m.url, m.url);
          i = m.end;
          continue;
        }
        if (c === '*' && s.charAt(i + 1) === '*' && (j = closing(s, i + 2, '**')) > 0) {
          flush();
          node = el('strong');
          inline(node, s.slice(i + 2, j), ctx, depth + 1);
          parent.appendChild(node);
          i = j + 2;
          continue;
        }
        if ((c === '*' || (c === '_' && !wordChar(s.charAt(i - 1)))) && (j = closing(s, i + 1, c)) > 0) {
          flush();
          node = el('em');
          inline(node, s.slice(i + 1, j), ctx, depth + 1);
          parent.appendChild(node);
          i = j + 1;
          continue;
        }
        if (c === BT && (j = closing(s, i + 1, BT)) > 0) {
          flush();
          parent.appendChild(el('code', null, s.slice(i + 1, j)));
          i = j + 1;
          continue;
        }
      }
      buf += c;
      i++;
    }
    flush();
  }
  DK.inline = inline;

  // Block structure: headings, quotes, lists, rules, paragraphs (a single newline is a line break, as in DingTalk).
  function markdown(parent, src, ctx) {
    var lines = String(src).replace(/\r\n?/g, '\n').split('\n');
    var para = null;
    var list = null;
    var listKind = '';
    function endPara() { para = null; }
    function endList() { list = null; listKind = ''; }
    for (var n = 0; n < lines.length; n++) {
      var line = lines[n];
      var t = line.trim();
      var m;
      if (t === '') { endPara(); endList(); continue; }
      if ((m = /^(#{1,6})\s+(.*)$/.exec(t))) {
        endPara(); endList();
        var h = el('h' + m[1].length);
        inline(h, m[2], ctx);
        parent.appendChild(h);
        continue;
      }
      if (/^(-{3,}|\*{3,})$/.test(t)) { endPara(); endList(); parent.appendChild(el('hr')); continue; }
      if ((m = /^>\s?(.*)$/.exec(t))) {
        endPara(); endList();
        var q = el('blockquote');
        inline(q, m[1], ctx);
        parent.appendChild(q);
        continue;
      }
      var ul = /^[-*+]\s+(.*)$/.exec(t);
      var ol = /^(\d{1,9})[.)]\s+(.*)$/.exec(t);
      if (ul || ol) {
        endPara();
        var kind = ul ? 'ul' : 'ol';
        if (!list || listKind !== kind) {
          list = el(kind);
          listKind = kind;
          if (ol && ol[1] !== '1') list.setAttribute('start', String(Number(ol[1])));
          parent.appendChild(list);
        }
        var li = el('li');
        inline(li, ul ? ul[1] : ol[2], ctx);
        list.appendChild(li);
        continue;
      }
      endList();
      if (!para) { para = el('p'); parent.appendChild(para); }
      else para.appendChild(el('br'));
      inline(para, line, ctx);
    }
  }
  DK.markdown = markdown;
})();
`;

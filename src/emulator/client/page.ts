/**
 * The emulated client's HTML: a shell the script (script.ts) fills. No inline script, style or handler: the
 * policy (routes.ts `CLIENT_CSP`) allows only the same-origin `app.js` and `app.css`.
 */

export const CLIENT_HTML = `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>钉钉 · dingkit emulator</title>
  <link rel="stylesheet" href="app.css">
  <script src="app.js" defer></script>
</head>
<body>
  <header class="top">
    <span class="brand">钉钉 <small>emulator</small></span>
    <span id="org" class="org"></span>
    <button id="lang" type="button" class="ghost" aria-label="language">EN</button>
    <button id="who" type="button" class="who"></button>
  </header>
  <div id="pick" class="pick hidden">
    <h2 data-t="pickTitle"></h2>
    <p class="hint" data-t="pickHint"></p>
    <ul id="people" class="people"></ul>
  </div>
  <div id="shell" class="shell hidden">
    <nav class="tabs" aria-label="tabs">
      <button type="button" data-tab="chats" class="tab on" data-t="tabChats"></button>
      <button type="button" data-tab="todos" class="tab" data-t="tabTodos"></button>
      <button type="button" data-tab="work" class="tab" data-t="tabWork"></button>
    </nav>
    <section id="list" class="pane list">
      <ul id="chats" class="chats"></ul>
    </section>
    <section id="chat" class="pane chat">
      <div class="chat-head">
        <button id="back" type="button" class="ghost back" aria-label="back">‹</button>
        <div class="chat-titles"><h2 id="chat-title"></h2><div id="chat-sub" class="sub"></div></div>
      </div>
      <ol id="messages" class="messages"></ol>
      <form id="composer" class="composer" autocomplete="off">
        <input id="compose-text" type="text" maxlength="5000" autocomplete="off">
        <button type="submit" class="primary" data-t="send"></button>
      </form>
      <div id="compose-error" class="err"></div>
    </section>
    <section id="todos" class="pane todos hidden">
      <h2 data-t="tabTodos"></h2>
      <div id="todo-error" class="err"></div>
      <ul id="todo-list" class="todo-list"></ul>
    </section>
    <section id="work" class="pane work hidden">
      <h2 data-t="tabWork"></h2>
      <ul id="app-list" class="app-list"></ul>
    </section>
  </div>
  <div id="phone" class="phone hidden" role="dialog" aria-label="app">
    <div class="phone-bar">
      <button id="phone-close" type="button" class="ghost" aria-label="close">✕</button>
      <span id="phone-title" class="phone-title"></span>
      <span id="phone-origin" class="sub"></span>
    </div>
    <iframe id="phone-frame" title="app" sandbox="allow-scripts allow-same-origin allow-forms allow-popups" referrerpolicy="no-referrer"></iframe>
  </div>
  <div id="status" class="status" aria-live="polite"></div>
</body>
</html>
`;

/**
 * The emulated client's style: mobile first (one pane at a time, usable at 360 px without horizontal scroll), two
 * columns from 900 px. Served as `/_emulator/client/app.css`.
 */

export const CLIENT_STYLE = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { font: 15px/1.5 -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", system-ui, sans-serif;
  color: #1f2329; background: #f2f3f5; overflow-x: hidden; }
button { font: inherit; cursor: pointer; border: 1px solid #dee0e3; background: #fff; border-radius: 6px;
  padding: .35rem .7rem; color: inherit; }
button:hover, button:focus-visible { border-color: #3370ff; }
button.primary { background: #3370ff; border-color: #3370ff; color: #fff; }
button.ghost { border-color: transparent; background: transparent; }
button:disabled { opacity: .5; cursor: default; }
a { color: #3370ff; overflow-wrap: anywhere; }
.hidden { display: none !important; }
.err { color: #d83931; font-size: .85rem; min-height: 0; }
.sub, .hint { color: #8f959e; font-size: .8rem; }

.top { display: flex; align-items: center; gap: .5rem; padding: .5rem .75rem; background: #3370ff; color: #fff;
  position: sticky; top: 0; z-index: 5; }
.top .brand { font-weight: 600; white-space: nowrap; }
.top .brand small { font-weight: 400; opacity: .8; }
.top .org { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; opacity: .9;
  font-size: .85rem; }
.top button { color: #fff; border-color: rgba(255,255,255,.5); background: transparent; white-space: nowrap;
  max-width: 9rem; overflow: hidden; text-overflow: ellipsis; }

.pick { max-width: 28rem; margin: 1.5rem auto; padding: 0 1rem; }
.people { list-style: none; padding: 0; margin: 0; }
.people button { width: 100%; text-align: left; margin: .25rem 0; padding: .6rem .8rem; display: flex; gap: .6rem;
  align-items: center; }
.avatar { flex: none; width: 2.2rem; height: 2.2rem; border-radius: 50%; background: #5b8cff; color: #fff;
  display: inline-flex; align-items: center; justify-content: center; font-size: .85rem; overflow: hidden; }
.avatar.bot { background: #00b386; }
.avatar.notice { background: #ff8800; }

.shell { display: flex; flex-direction: column; height: calc(100vh - 2.9rem); }
.tabs { order: 2; display: flex; border-top: 1px solid #dee0e3; background: #fff; }
.tabs .tab { flex: 1; border: 0; border-radius: 0; padding: .6rem 0; background: #fff; color: #646a73; }
.tabs .tab.on { color: #3370ff; font-weight: 600; }
.pane { order: 1; flex: 1; min-height: 0; overflow-y: auto; background: #fff; }
.pane h2 { font-size: 1rem; margin: .75rem; }

.chats { list-style: none; margin: 0; padding: 0; }
.chats button { width: 100%; border: 0; border-bottom: 1px solid #f0f1f2; border-radius: 0; display: flex; gap: .6rem;
  padding: .6rem .75rem; text-align: left; align-items: center; background: #fff; }
.chats button.on { background: #eef3ff; }
.chats .meta { flex: 1; min-width: 0; }
.chats .name { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chats .last { color: #8f959e; font-size: .8rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chats .unread { flex: none; min-width: 1.3rem; height: 1.3rem; padding: 0 .35rem; border-radius: .65rem;
  background: #f54a45; color: #fff; font-size: .75rem; line-height: 1.3rem; text-align: center; }

.chat { display: flex; flex-direction: column; overflow: hidden; background: #f2f3f5; }
.chat-head { display: flex; align-items: center; gap: .25rem; padding: .4rem .5rem; background: #fff;
  border-bottom: 1px solid #dee0e3; }
.chat-head h2 { margin: 0; font-size: 1rem; }
.chat-titles { min-width: 0; }
.back { font-size: 1.4rem; line-height: 1; padding: 0 .5rem; }
.messages { list-style: none; margin: 0; padding: .5rem .6rem; flex: 1; overflow-y: auto; }
.msg { display: flex; gap: .5rem; margin: .6rem 0; align-items: flex-start; }
.msg.mine { flex-direction: row-reverse; }
.msg .col { min-width: 0; max-width: calc(100% - 3rem); }
.msg.mine .col { text-align: right; }
.msg .who { font-size: .75rem; color: #8f959e; }
.bubble { display: inline-block; text-align: left; background: #fff; border-radius: 8px; padding: .5rem .7rem;
  max-width: 100%; overflow-wrap: anywhere; white-space: pre-wrap; border: 1px solid #e8e9eb; }
.msg.mine .bubble { background: #d6e4ff; border-color: #c2d6ff; }
.bubble.md { white-space: normal; }
.bubble.recalled { color: #8f959e; font-style: italic; }
.bubble h1, .bubble h2, .bubble h3, .bubble h4, .bubble h5, .bubble h6 { margin: .2rem 0; font-size: 1rem; }
.bubble h1 { font-size: 1.2rem; } .bubble h2 { font-size: 1.1rem; }
.bubble p { margin: .2rem 0; }
.bubble ul, .bubble ol { margin: .2rem 0; padding-left: 1.3rem; }
.bubble blockquote { margin: .2rem 0; padding-left: .6rem; border-left: 3px solid #dee0e3; color: #646a73; }
.bubble code { background: #f2f3f5; padding: 0 .2rem; border-radius: 3px; }
.bubble hr { border: 0; border-top: 1px solid #dee0e3; }
.card-title { font-weight: 600; margin-bottom: .2rem; }
.badge { display: inline-block; margin-left: .5rem; padding: 0 .45rem; border-radius: .6rem; font-size: .75rem;
  font-weight: 500; background: #e8f3ff; color: #1f6fd1; vertical-align: middle; }
.badge[data-state=in_progress] { background: #fff3e0; color: #c76a00; }
.badge[data-state=done] { background: #e6f7ec; color: #1e8e3e; }
.badge[data-state=cancelled] { background: #f0f1f2; color: #646a73; }
.badge[data-state=firing] { background: #fdecea; color: #d93026; }
.badge[data-state=resolved] { background: #e6f7ec; color: #1e8e3e; }
.last-action { margin-top: .35rem; }
.card-note { margin-top: .35rem; padding: .25rem .4rem; border-radius: .3rem; background: #fff1f0; color: #c4302b;
  font-size: .8rem; }
.btns { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .5rem; }
.btns.v { flex-direction: column; }
.btns button { flex: 1; min-width: 6rem; }
.feed { list-style: none; margin: 0; padding: 0; }
.feed li { border-top: 1px solid #f0f1f2; padding: .3rem 0; }
.file { display: flex; gap: .6rem; align-items: center; white-space: normal; }
.file .icon { flex: none; width: 2.2rem; height: 2.6rem; border-radius: 4px; background: #ff8800; color: #fff;
  display: inline-flex; align-items: center; justify-content: center; font-size: .7rem; font-weight: 600; }
.params { margin: .3rem 0 0; font-size: .85rem; color: #646a73; white-space: normal; }
.params div { overflow-wrap: anywhere; }
.mention { color: #3370ff; font-weight: 500; }
.mention.silent { color: #646a73; font-weight: 400; text-decoration: underline dotted; }
.mention.me { background: #fff3d6; border-radius: 3px; }
.ats { margin-top: .2rem; font-size: .75rem; color: #8f959e; }
.ats .mention { margin-right: .3rem; }
.tag { display: inline-block; font-size: .7rem; padding: 0 .3rem; border-radius: 3px; background: #eef3ff;
  color: #3370ff; margin-left: .3rem; vertical-align: middle; }
.tag.warn { background: #fff3d6; color: #b26a00; }
.composer { display: flex; gap: .4rem; padding: .5rem; background: #fff; border-top: 1px solid #dee0e3; }
.composer input { flex: 1; min-width: 0; font: inherit; padding: .45rem .6rem; border: 1px solid #dee0e3;
  border-radius: 6px; }
.chat .err { padding: 0 .6rem; background: #fff; }

.todo-list, .app-list { list-style: none; margin: 0; padding: 0 .75rem .75rem; }
.todo { display: flex; gap: .6rem; align-items: flex-start; padding: .6rem 0; border-bottom: 1px solid #f0f1f2; }
.todo .tick { flex: none; width: 1.6rem; height: 1.6rem; padding: 0; border-radius: 50%; }
.todo.done .tick { background: #00b386; border-color: #00b386; color: #fff; }
.todo .open { flex: 1; min-width: 0; text-align: left; border: 0; padding: 0; background: transparent; }
.todo.done .subject { text-decoration: line-through; color: #8f959e; }
.todo .subject { font-weight: 500; overflow-wrap: anywhere; }
.app-list button { width: 100%; display: flex; gap: .6rem; align-items: center; text-align: left; margin: .3rem 0;
  padding: .6rem; }

.phone { position: fixed; inset: 0; z-index: 10; background: #fff; display: flex; flex-direction: column; }
.phone-bar { display: flex; align-items: center; gap: .5rem; padding: .3rem .5rem; border-bottom: 1px solid #dee0e3;
  min-width: 0; }
.phone-title { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.phone-bar .sub { margin-left: auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.phone iframe { flex: 1; width: 100%; border: 0; }
.status { position: fixed; left: 50%; bottom: 4rem; transform: translateX(-50%); background: rgba(31,35,41,.85);
  color: #fff; padding: .3rem .8rem; border-radius: 6px; font-size: .85rem; pointer-events: none; opacity: 0;
  transition: opacity .2s; max-width: 90vw; }
.status.on { opacity: 1; }

@media (min-width: 900px) {
  .shell { display: grid; grid-template-columns: 20rem 1fr; grid-template-rows: auto 1fr; height: calc(100vh - 2.9rem); }
  .tabs { order: 0; grid-column: 1; grid-row: 1; border-top: 0; border-bottom: 1px solid #dee0e3; border-right: 1px solid #dee0e3; }
  .list { grid-column: 1; grid-row: 2; border-right: 1px solid #dee0e3; }
  .chat, .todos, .work { grid-column: 2; grid-row: 1 / span 2; }
  .shell.tab-todos .list, .shell.tab-work .list { display: block; }
  .back { display: none; }
  /* A phone: the page inside gets 390 px of width and up to 844 px of height (less on a short window). */
  .phone { inset: auto 1.5rem 1rem auto; top: 3.6rem; width: 410px; height: min(calc(844px + 2.7rem + 20px), calc(100vh - 4.6rem));
    border: 10px solid #1f2329; border-radius: 28px; overflow: hidden; box-shadow: 0 8px 30px rgba(0,0,0,.25); }
}
`;

/** The people's pages' stylesheet, served inline and allowed by hash (page.ts). No backslash, backtick or "${". */

export const APP_STYLE = `
:root { --bg:#f4f6fa; --card:#fff; --ink:#1d2433; --muted:#6b7385; --line:#e3e7ef; --accent:#1677ff;
  --ok:#1f9d55; --warn:#d48806; --bad:#d4380d; }
* { box-sizing:border-box; }
html, body { margin:0; padding:0; }
body { font:15px/1.5 -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", Roboto, sans-serif;
  background:var(--bg); color:var(--ink); overflow-wrap:anywhere; }
.hidden { display:none !important; }
header { display:flex; align-items:center; gap:8px; padding:10px 14px; background:#0f1b33; color:#fff; flex-wrap:wrap; }
header h1 { font-size:17px; margin:0; font-weight:600; flex:1; min-width:0; }
header a, header button { color:#cfd8ea; background:transparent; border:1px solid rgba(255,255,255,.25);
  border-radius:6px; padding:3px 10px; font:inherit; font-size:13px; text-decoration:none; cursor:pointer; }
.who { font-size:13px; color:#cfd8ea; }
main { max-width:760px; margin:0 auto; padding:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; margin-bottom:12px; }
h2 { font-size:14px; color:var(--muted); margin:16px 2px 8px; text-transform:uppercase; letter-spacing:.5px; }
ul.tasks { list-style:none; margin:0; padding:0; }
ul.tasks li { background:var(--card); border:1px solid var(--line); border-radius:10px; margin-bottom:8px; }
ul.tasks a { display:block; padding:10px 12px; color:inherit; text-decoration:none; }
.title { font-weight:600; font-size:16px; }
.meta { color:var(--muted); font-size:13px; display:flex; flex-wrap:wrap; gap:4px 12px; }
.empty { color:var(--muted); font-size:14px; padding:4px 2px; }
ul.tasks li.empty { background:none; border:none; margin:0 0 4px; }
.state { display:inline-block; border-radius:999px; padding:0 8px; font-size:12px; background:#eef2f8; color:var(--ink); }
.state.done { background:#e5f6ec; color:var(--ok); }
.state.in_progress { background:#e8f1ff; color:var(--accent); }
.state.cancelled { background:#f3f3f3; color:var(--muted); }
.prio-high, .prio-urgent { color:var(--bad); font-weight:600; }
dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 12px; margin:8px 0 0; font-size:14px; }
dt { color:var(--muted); }
dd { margin:0; min-width:0; }
.desc { white-space:pre-wrap; margin:8px 0 0; }
.actions { display:flex; flex-wrap:wrap; gap:8px; margin-top:12px; }
button { font:inherit; border:1px solid var(--line); background:#fff; color:var(--ink); border-radius:8px;
  padding:8px 16px; cursor:pointer; min-height:40px; }
a.button { display:inline-flex; align-items:center; font:inherit; border:1px solid var(--line); background:#fff;
  color:var(--ink); border-radius:8px; padding:8px 16px; min-height:40px; text-decoration:none; }
button.primary, a.button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger { color:var(--bad); }
button:disabled { opacity:.5; }
ol.history, ul.sent { margin:0; padding-left:18px; font-size:14px; }
ol.history li, ul.sent li { margin:2px 0; }
.err { color:var(--bad); font-size:14px; min-height:1em; }
.ok { color:var(--ok); font-size:14px; }
form label { display:block; font-size:13px; color:var(--muted); margin:10px 0 4px; }
input, textarea, select { font:inherit; width:100%; max-width:100%; padding:8px 10px; border:1px solid var(--line);
  border-radius:8px; background:#fff; color:var(--ink); }
textarea { min-height:90px; resize:vertical; }
.chips { display:flex; flex-wrap:wrap; gap:6px; margin-top:6px; }
.chip { border-radius:999px; padding:4px 10px; min-height:32px; font-size:14px; }
.chip.on { background:var(--accent); border-color:var(--accent); color:#fff; }
.center { text-align:center; padding:32px 12px; }
.lang { margin-left:auto; }
`;

/** The dashboard's stylesheet (page.ts serves it inline and allows it by hash). No backslash, backtick or "${". */

import { PARKED_STYLE } from './parked.js';

export const STYLE = `
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
.num .zone { display:block; font-size:11px; }
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
ul.feed li.empty { display:block; }
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
.rcpt { display:block; margin:4px 0 0; white-space:nowrap; }
.rcpt-dropped { color:var(--bad); border-color:#f5c2bd; background:#fff6f5; }
.b-delivered { background:#e8f7ee; color:#237a45; } .b-read { background:#e6f0ff; color:#0958d9; }
.b-dropped { background:#fdecea; color:#b42318; } .b-pending { background:#fff4e0; color:#ad6800; }
tr.detail > td { background:#fafbfd; padding:8px 16px 12px; }
table.people th { position:static; background:none; }
table.people .code { font-variant-numeric: tabular-nums; font-weight:600; }
${PARKED_STYLE}`;

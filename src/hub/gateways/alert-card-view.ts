/**
 * An alert as its interactive card's values (docs/dingtalk.md §10: `cardParamMap`, strings only, complex values
 * JSON-encoded). Pure, so what the group sees is unit-tested without I/O. The card binds the task card's variables
 * (tasks/card-view.ts), so one card template serves both:
 *
 * | variable     | value                                                                                           |
 * |--------------|-------------------------------------------------------------------------------------------------|
 * | `title`      | the alert's name (`HighLatency`)                                                                 |
 * | `status`     | the state as people read it (`Firing` / `告警中`, `Resolved` / `已恢复`)                            |
 * | `state`      | `firing` or `resolved`, for a template to switch colour on                                       |
 * | `content`    | markdown: severity, summary, description, labels, flaps, the people it names                     |
 * | `lastAction` | `Firing since …` / `Resolved at … after 12m`                                                     |
 * | `buttons`    | JSON `[{id, text, url}]`: links to the generator (`generatorURL`) and the runbook (`runbook_url`) |
 *
 * The buttons are links only (nothing comes back as a click), and only `http:` / `https:` ones: the URLs come from
 * whoever can post to the route, and a `javascript:` or `dingtalk:` link on a card is a click away from everyone.
 */

import type { Catalogue, Locale } from '../locale.js';
import type { HookItem } from './items.js';

export interface AlertCardView {
  item: HookItem;
  state: 'firing' | 'resolved';
  /** Start and end, already formatted in the hub's zone ('' when unknown). */
  since: string;
  until: string;
  /** How long it fired, in ms (resolved only; undefined when the times are unknown). */
  durationMs: number | undefined;
  flaps: number;
  /** People the alert names (app robots cannot @, §3.1: the names are written). */
  names: readonly string[];
  /** Labels not listed, because they are shown otherwise (the route's `mentions.from`: as the names). */
  hidden?: readonly string[] | undefined;
}

interface AlertCardTexts {
  alert: string;
  firing: string;
  resolved: string;
  severity: string;
  labels: string;
  flapped(n: number): string;
  notify: string;
  colon: string;
  and: string;
  since(at: string): string;
  resolvedAt(at: string, lasted: string): string;
  duration(ms: number): string;
  source: string;
  runbook: string;
}

function parts(ms: number): { d: number; h: number; m: number; s: number } {
  const total = Math.max(0, Math.round(ms / 1000));
  return {
    d: Math.floor(total / 86_400),
    h: Math.floor((total % 86_400) / 3_600),
    m: Math.floor((total % 3_600) / 60),
    s: total % 60,
  };
}

/** The two largest non-zero units: `1d 3h`, `12m 5s`, `40s`. */
function duration(ms: number, unit: { d: string; h: string; m: string; s: string }, sep: string): string {
  const p = parts(ms);
  const all = (['d', 'h', 'm', 's'] as const).filter((k) => p[k] > 0).map((k) => `${p[k]}${unit[k]}`);
  return all.length === 0 ? `0${unit.s}` : all.slice(0, 2).join(sep);
}

const en: AlertCardTexts = {
  alert: 'alert',
  firing: 'Firing',
  resolved: 'Resolved',
  severity: 'Severity',
  labels: 'Labels',
  flapped: (n) => `flapped ${n}×`,
  notify: 'Owners',
  colon: ': ',
  and: ', ',
  since: (at) => `Firing since ${at}`,
  resolvedAt: (at, lasted) => `Resolved at ${at}${lasted ? ` after ${lasted}` : ''}`,
  duration: (ms) => duration(ms, { d: 'd', h: 'h', m: 'm', s: 's' }, ' '),
  source: 'Source',
  runbook: 'Runbook',
};

const zh: AlertCardTexts = {
  alert: '告警',
  firing: '告警中',
  resolved: '已恢复',
  severity: '级别',
  labels: '标签',
  flapped: (n) => `抖动 ${n} 次`,
  notify: '负责人',
  colon: '：',
  and: '，',
  since: (at) => `触发于 ${at}`,
  resolvedAt: (at, lasted) => `恢复于 ${at}${lasted ? `，持续 ${lasted}` : ''}`,
  duration: (ms) => duration(ms, { d: '天', h: '小时', m: '分钟', s: '秒' }, ''),
  source: '来源',
  runbook: '处置手册',
};

export const ALERT_CARD_TEXTS: Catalogue<AlertCardTexts> = { en, 'zh-CN': zh };

/** Only web links: anything else an alert carries is left off the card. */
export function webLink(raw: string | undefined): string | undefined {
  if (!raw || raw.length > 2048) return undefined;
  try {
    const u = new URL(raw);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Labels shown on the card: all but the name, severity and people (shown on their own), sorted, at most 30. */
function labelLines(item: HookItem, colon: string, hidden: readonly string[]): string[] {
  return Object.entries(item.labels)
    .filter(([k]) => k !== 'alertname' && k !== 'severity' && !hidden.includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, 30)
    .map(([k, v]) => `- ${clip(k, 64)}${colon}${clip(v, 200)}`);
}

export function alertCardData(v: AlertCardView, locale: Locale): Record<string, string> {
  const t = ALERT_CARD_TEXTS[locale];
  const { item } = v;
  const lines: string[] = [];
  const severity = item.labels['severity'];
  if (severity) lines.push(`**${t.severity}**${t.colon}${clip(severity, 64)}`);
  const summary = item.annotations['summary'];
  if (summary) lines.push(clip(summary, 500));
  const description = item.annotations['description'];
  if (description) lines.push(clip(description, 1_000));
  const labels = labelLines(item, t.colon, v.names.length > 0 ? (v.hidden ?? []) : []);
  if (labels.length > 0) lines.push(`**${t.labels}**\n${labels.join('\n')}`);
  if (v.flaps > 0) lines.push(`**${t.flapped(v.flaps)}**`);
  if (v.names.length > 0)
    lines.push(`**${t.notify}**${t.colon}${v.names.map((n) => clip(n, 64)).join(t.and)}`);
  const buttons: Array<{ id: string; text: string; url: string }> = [];
  const source = webLink(item.generatorURL);
  if (source) buttons.push({ id: 'source', text: t.source, url: source });
  const runbook = webLink(item.annotations['runbook_url'] ?? item.annotations['runbook']);
  if (runbook) buttons.push({ id: 'runbook', text: t.runbook, url: runbook });
  const lasted = v.durationMs === undefined ? '' : t.duration(v.durationMs);
  return {
    title: clip(item.labels['alertname'] || t.alert, 120),
    status: v.state === 'firing' ? t.firing : t.resolved,
    state: v.state,
    content: lines.join('\n\n'),
    lastAction: v.state === 'firing' ? t.since(v.since) : t.resolvedAt(v.until, lasted),
    buttons: JSON.stringify(buttons),
  };
}

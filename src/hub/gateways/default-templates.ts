/**
 * The built-in message templates, one set per locale (Liquid, markdown: DingTalk's robot markdown dialect,
 * docs/dingtalk.md §2.4: headings, bold, links, lists; `\n` line breaks). A route overrides any of them from
 * files (config `templates`). What each template sees is described in docs/gateways.md "Templates".
 */

import type { Catalogue } from '../locale.js';

export interface TemplateSet {
  firing: string;
  resolved: string;
  event: string;
  digest: string;
  /** Markdown titles (the chat list and the notification show them, §2.4). */
  titles: { firing: string; resolved: string; event: string; digest: string };
}

const alertLines = `{% if item.annotations.summary %}{{ item.annotations.summary }}
{% endif %}{% if item.annotations.description %}
{{ item.annotations.description }}
{% endif %}`;

/** Grafana's values and links (item.values, item.links: src/hub/gateways/grafana.ts); absent for other senders. */
const values = (
  label: string,
) => `{% if item.values %}${label}{% for v in item.values %}{{ v[0] }}={{ v[1] }}{% unless forloop.last %}, {% endunless %}{% endfor %}
{% endif %}`;
const links = (dashboard: string, panel: string, silence: string) =>
  `{% if item.links.dashboard %} · [${dashboard}]({{ item.links.dashboard }}){% endif %}{% if item.links.panel %} · [${panel}]({{ item.links.panel }}){% endif %}{% if item.links.silence %} · [${silence}]({{ item.links.silence }}){% endif %}`;

export const DEFAULT_TEMPLATES: Catalogue<TemplateSet> = {
  en: {
    firing: `### 🔥 FIRING: {{ item.labels.alertname | default: "alert" }}
${alertLines}
{% for l in labels %}- {{ l.name }}: {{ l.value }}
{% endfor %}${values('Values: ')}
Since {{ since }}{% if flaps > 0 %} · flapped {{ flaps }}× before{% endif %}{% if item.generatorURL %} · [source]({{ item.generatorURL }}){% endif %}${links('dashboard', 'panel', 'silence')}{% if mentions != "" %}

{{ mentions }}{% endif %}`,
    resolved: `### ✅ RESOLVED: {{ item.labels.alertname | default: "alert" }}
${alertLines}
Fired {{ since }}, resolved {{ until }}{% if firing %} · re: the alert posted at {{ firing.at }}{% endif %}{% if flaps > 0 %} · flapped {{ flaps }}×{% endif %}`,
    event: `### {{ body.title | default: body.summary | default: "Event" }}
{% if body.text %}{{ body.text }}{% elsif body.message %}{{ body.message }}{% else %}{% for l in labels limit: 20 %}- {{ l.name }}: {{ l.value }}
{% endfor %}{% endif %}{% if mentions != "" %}

{{ mentions }}{% endif %}`,
    digest: `### 📋 {{ counts.total }} alerts: {{ counts.firing }} firing, {{ counts.resolved }} resolved{% if counts.event > 0 %}, {{ counts.event }} events{% endif %}
{% for i in shown %}- {% if i.kind == "firing" %}🔥{% elsif i.kind == "resolved" %}✅{% else %}•{% endif %} {{ i.name }}{% if i.detail != "" %}: {{ i.detail }}{% endif %}
{% endfor %}{% if more > 0 %}- … and {{ more }} more
{% endif %}{% if flaps > 0 %}
{{ flaps }} flapping transitions coalesced.
{% endif %}{% if mentions != "" %}
{{ mentions }}{% endif %}`,
    titles: {
      firing: '[FIRING] {{ item.labels.alertname | default: "alert" }}',
      resolved: '[RESOLVED] {{ item.labels.alertname | default: "alert" }}',
      event: '{{ body.title | default: "Event" }}',
      digest: '[{{ counts.total }} alerts] {{ counts.firing }} firing, {{ counts.resolved }} resolved',
    },
  },
  'zh-CN': {
    firing: `### 🔥 告警触发：{{ item.labels.alertname | default: "告警" }}
${alertLines}
{% for l in labels %}- {{ l.name }}：{{ l.value }}
{% endfor %}${values('数值：')}
开始于 {{ since }}{% if flaps > 0 %} · 此前抖动 {{ flaps }} 次{% endif %}{% if item.generatorURL %} · [来源]({{ item.generatorURL }}){% endif %}${links('仪表盘', '面板', '静默')}{% if mentions != "" %}

{{ mentions }}{% endif %}`,
    resolved: `### ✅ 告警恢复：{{ item.labels.alertname | default: "告警" }}
${alertLines}
触发于 {{ since }}，恢复于 {{ until }}{% if firing %} · 对应 {{ firing.at }} 发出的告警{% endif %}{% if flaps > 0 %} · 抖动 {{ flaps }} 次{% endif %}`,
    event: `### {{ body.title | default: body.summary | default: "事件" }}
{% if body.text %}{{ body.text }}{% elsif body.message %}{{ body.message }}{% else %}{% for l in labels limit: 20 %}- {{ l.name }}：{{ l.value }}
{% endfor %}{% endif %}{% if mentions != "" %}

{{ mentions }}{% endif %}`,
    digest: `### 📋 共 {{ counts.total }} 条告警：触发 {{ counts.firing }}，恢复 {{ counts.resolved }}{% if counts.event > 0 %}，事件 {{ counts.event }}{% endif %}
{% for i in shown %}- {% if i.kind == "firing" %}🔥{% elsif i.kind == "resolved" %}✅{% else %}•{% endif %} {{ i.name }}{% if i.detail != "" %}：{{ i.detail }}{% endif %}
{% endfor %}{% if more > 0 %}- …… 另有 {{ more }} 条
{% endif %}{% if flaps > 0 %}
已合并 {{ flaps }} 次抖动。
{% endif %}{% if mentions != "" %}
{{ mentions }}{% endif %}`,
    titles: {
      firing: '[告警] {{ item.labels.alertname | default: "告警" }}',
      resolved: '[恢复] {{ item.labels.alertname | default: "告警" }}',
      event: '{{ body.title | default: "事件" }}',
      digest: '[{{ counts.total }} 条告警] 触发 {{ counts.firing }}，恢复 {{ counts.resolved }}',
    },
  },
};

/**
 * What GitHub events say in a group, per locale (docs/gateways.md "GitHub"). The texts are markdown for the
 * built-in `event` template (`body.title`, `body.text`); a route's own `event` template sees the same fields and the
 * event's facts under `body.github`.
 */

import type { Catalogue } from '../locale.js';

export interface PullRequestFacts {
  repo: string;
  number: number;
  title: string;
  url: string;
  author: string;
  head: string;
  base: string;
}

export interface GithubTexts {
  pr: {
    opened: string;
    reopened: string;
    ready_for_review: string;
    review_requested: string;
    merged: string;
    closed: string;
  };
  prLine(p: PullRequestFacts): string;
  view: string;
  reviewersUnknown(logins: string): string;
  team(name: string): string;
  pushTitle(repo: string, branch: string, n: number): string;
  pushBy(name: string, forced: boolean): string;
  more(n: number): string;
  compare: string;
  runFailed(name: string, repo: string, branch: string): string;
  runSummary(n: number, conclusion: string, event: string, actor: string): string;
}

export const GITHUB_TEXTS: Catalogue<GithubTexts> = {
  en: {
    pr: {
      opened: 'PR opened',
      reopened: 'PR reopened',
      ready_for_review: 'PR ready for review',
      review_requested: 'Review requested',
      merged: 'PR merged',
      closed: 'PR closed without merging',
    },
    prLine: (p) => `**${p.repo}#${p.number}** ${p.title}\n\n${p.head} → ${p.base} · by ${p.author}`,
    view: 'View on GitHub',
    reviewersUnknown: (l) => `Reviewers not in the directory: ${l}`,
    team: (n) => `Team: ${n}`,
    pushTitle: (repo, branch, n) => `Push to ${repo} ${branch}: ${n} commit${n === 1 ? '' : 's'}`,
    pushBy: (name, forced) => `by ${name}${forced ? ' (force-push)' : ''}`,
    more: (n) => `… and ${n} more`,
    compare: 'Compare',
    runFailed: (name, repo, branch) => `${name} failed on ${repo} ${branch}`,
    runSummary: (n, c, e, a) => `Run #${n} ended \`${c}\` (${e}, by ${a})`,
  },
  'zh-CN': {
    pr: {
      opened: 'PR 已创建',
      reopened: 'PR 已重新打开',
      ready_for_review: 'PR 可以评审了',
      review_requested: '请求评审',
      merged: 'PR 已合并',
      closed: 'PR 已关闭（未合并）',
    },
    prLine: (p) => `**${p.repo}#${p.number}** ${p.title}\n\n${p.head} → ${p.base} · 作者 ${p.author}`,
    view: '在 GitHub 查看',
    reviewersUnknown: (l) => `通讯录中没有的评审人：${l}`,
    team: (n) => `团队：${n}`,
    pushTitle: (repo, branch, n) => `推送到 ${repo} ${branch}：${n} 个提交`,
    pushBy: (name, forced) => `推送人 ${name}${forced ? '（强制推送）' : ''}`,
    more: (n) => `…… 另有 ${n} 个`,
    compare: '对比',
    runFailed: (name, repo, branch) => `${name} 在 ${repo} ${branch} 上失败`,
    runSummary: (n, c, e, a) => `第 ${n} 次运行结果 \`${c}\`（${e}，触发人 ${a}）`,
  },
};

/** The first line of a text, clipped: a title or commit message as one line. */
export function firstLine(s: string, max = 200): string {
  const line = (s.split(/\r?\n/)[0] ?? '').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A text anyone on GitHub can write (a pull request's title, a commit message, a fork's branch), made safe to put in
 * a markdown message: one line (a line break would start a heading or a list of the writer's choosing), and no
 * link, image or HTML syntax. An image in a title would have every member's DingTalk client fetch the writer's URL;
 * a link would put the writer's address under the hub's name. Brackets become their full-width forms, which read
 * the same (docs/dingtalk.md §2.4 lists the markdown DingTalk renders).
 */
export function oneLine(s: string, max = 200): string {
  return firstLine(s, max).replace(/[[\]<>]/g, (c) => FULL_WIDTH[c] ?? c);
}

const FULL_WIDTH: Record<string, string> = { '[': '［', ']': '］', '<': '＜', '>': '＞' };

/**
 * Where a person lands from a task's Todo or card (docs/dingtalk.md §8.2, §13.4): the task's page of the people's web
 * app. The PC client opens `pcUrl`; wrapped in DingTalk's page link with `pc_slide=true` it opens in the client's
 * side panel (config `peopleApp.pcSlide`). A configured `tasks.detailUrl` replaces both.
 */

import type { HubConfig } from '../config.js';

export function taskDetailUrl(
  config: Pick<HubConfig, 'tasks' | 'peopleApp'>,
  publicUrl: string,
  id: number,
): { appUrl: string; pcUrl: string } {
  const t = config.tasks.detailUrl;
  if (t) {
    const url = t.replace('{id}', String(id));
    return { appUrl: url, pcUrl: url };
  }
  const appUrl = `${publicUrl}/app/tasks/${id}`;
  const slide = config.peopleApp.pcSlide ? '&pc_slide=true' : '';
  return { appUrl, pcUrl: `dingtalk://dingtalkclient/page/link?url=${encodeURIComponent(appUrl)}${slide}` };
}

/**
 * The fallback for a dropped work notice (`notices.droppedFallback: app-robot`): the same content, once, 1:1 from
 * the app robot, through the outbox (so it is durable, budgeted and retried like any send), linked to the
 * original delivery. "Once" is the recipient row's `fallback_at`: it is set in the same transaction as the
 * enqueue and only where it was still null, so two checkers, or one checker asked twice, never send a second.
 *
 * An unknown user (`invalid_user`) gets no fallback: the app robot would not reach them either.
 */

import { appMessage, type TemplateMessage } from '../../api/robot/app-templates.js';
import type { Tx } from '../../store/open-store.js';
import type { Job } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { NoticeMessage } from '../dingtalk/port.js';

/**
 * The app-robot template that carries what a work notice carried (docs/dingtalk.md §5.3 → §3.2), or undefined
 * when there is none (a file whose name is not known, a voice message). An `oa` notice becomes markdown of its title,
 * form and text.
 */
export function templateOf(msg: NoticeMessage, fileName?: string | undefined): TemplateMessage | undefined {
  switch (msg.msgtype) {
    case 'text':
      return appMessage.text(msg.text.content);
    case 'markdown':
      return appMessage.markdown(msg.markdown.title, msg.markdown.text);
    case 'link':
      return appMessage.link({ ...msg.link });
    case 'image':
      // §3.2: photoURL may be a media_id.
      return appMessage.image(msg.image.media_id);
    case 'file':
      return fileName === undefined ? undefined : appMessage.file(msg.file.media_id, fileName);
    case 'voice':
      // The library builds no audio template; the hub sends no voice notice either.
      return undefined;
    case 'action_card': {
      const c = msg.action_card;
      const title = c.title ?? '';
      if ('single_url' in c)
        return appMessage.actionCard(title, c.markdown, [{ title: c.single_title, url: c.single_url }]);
      const buttons = c.btn_json_list.slice(0, 5).map((b) => ({ title: b.title, url: b.action_url }));
      return buttons.length >= 1
        ? appMessage.actionCard(title, c.markdown, buttons)
        : appMessage.markdown(title, c.markdown);
    }
    case 'oa': {
      const b = msg.oa.body;
      const lines = [
        ...(b.form ?? []).map((f) => `${f.key} ${f.value}`),
        ...(b.content !== undefined ? [b.content] : []),
        `[${b.title ?? msg.oa.message_url}](${msg.oa.message_url})`,
      ];
      return appMessage.markdown(b.title ?? msg.oa.head.text ?? 'notice', lines.join('\n\n'));
    }
  }
}

export interface FallbackInput {
  deliveryId: number;
  messageId: string;
  /** The person's name as the original delivery named them. */
  target: string;
  app: string;
  userId: string;
  message: TemplateMessage;
  now: number;
}

/**
 * Enqueues the fallback in `tx` unless this recipient already has one. Returns the new delivery's id, or undefined
 * when one was already enqueued.
 */
export async function enqueueFallback(
  tx: Tx,
  outbox: OutboxPort,
  f: FallbackInput,
): Promise<number | undefined> {
  const claimed = await tx
    .updateTable('delivery_recipients')
    .set({ fallback_at: f.now })
    .where('delivery_id', '=', f.deliveryId)
    .where('user_id', '=', f.userId)
    .where('fallback_at', 'is', null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) return undefined;
  const job: Job = {
    channel: 'app',
    target: f.target,
    payload: { t: 'oto', app: f.app, userIds: [f.userId], ...f.message },
  };
  const r = await outbox.enqueue(
    {
      kind: 'fallback',
      request: { fallbackFor: f.deliveryId, messageId: f.messageId, userId: f.userId },
      // A second key on the request itself: the same fallback asked for twice is one request.
      idempotencyKey: `fallback:${f.deliveryId}:${f.userId}`,
      idempotencyScope: 'hub:fallback',
      createdBy: 'hub',
      jobs: [job],
    },
    tx,
  );
  const id = Number(r.deliveries[0]?.id);
  await tx
    .updateTable('delivery_recipients')
    .set({ fallback_delivery_id: id })
    .where('delivery_id', '=', f.deliveryId)
    .where('user_id', '=', f.userId)
    .execute();
  return id;
}

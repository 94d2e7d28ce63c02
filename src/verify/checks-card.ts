/**
 * An interactive card (§10): with writes, sent to the test group with the config's template, updated once, and
 * recalled at the end through the processQueryKey of the message that carries it.
 */

import { groupName, needGroupApp, recallGroup, TEXT } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const card: VerifyCheck = {
  id: 'card',
  family: 'card',
  title: 'an interactive card sent and updated, then recalled',
  plan: (env) => {
    const skip =
      needGroupApp(env) ?? (env.cardTemplateId ? undefined : 'no card template (tasks.cards.templateId)');
    return skip
      ? { skip }
      : { sends: `one interactive card to ${groupName(env)}, updated once, recalled at the end` };
  },
  async run(env, rec) {
    const outTrackId = `dingkit-verify-${env.runId}`;
    const openConversationId = env.group!.openConversationId!;
    const res = await env.dt.card.createAndDeliver({
      cardTemplateId: env.cardTemplateId!,
      outTrackId,
      cardData: { title: TEXT(env, 'card'), status: 'open' },
      to: { group: openConversationId },
    });
    const carrier = res.deliverResults.find((d) => d.carrierId)?.carrierId;
    rec.created({
      what: 'interactive card',
      to: groupName(env),
      ...(carrier
        ? { undo: () => recallGroup(env, openConversationId, carrier) }
        : { keep: 'DingTalk gave no carrierId (processQueryKey) to recall the card message with' }),
    });
    if (!res.success) {
      const why = res.deliverResults
        .map((d) => d.errorMsg)
        .filter(Boolean)
        .join('; ');
      return { failed: `delivery refused: ${why || 'no reason given'}` };
    }
    await env.dt.card.update({ outTrackId, cardData: { status: 'done' }, updateCardDataByKey: true });
    return `sent to ${groupName(env)} and updated`;
  },
};

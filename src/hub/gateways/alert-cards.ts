/**
 * Alert cards (docs/gateways.md "Firing and resolved"): in a group its app robot serves, a single firing alert is
 * announced as an interactive card (docs/dingtalk.md §10), and its resolve updates that card in place (resolved
 * state, resolved at, how long it fired, flaps) instead of posting a reply; a refire inside the flap window updates
 * the card's flap count and keeps it firing.
 *
 * Which groups: the same test as task cards (tasks/cards.ts): a group with an `app`, an `openConversationId` and
 * no custom `robot` (a custom robot cannot send cards, §2, and its @mentions are the ones that notify, §2.5), a
 * template (`gateways.cards.templateId`, else `tasks.cards.templateId`), `gateways.cards.enabled`, and a route
 * target that does not force another channel (`via: robot` / `notice`).
 *
 * Delivery is the outbox's, in the flush transaction that marks the items done (flush.ts): the create and each
 * update are jobs with one order key per card ({@link alertCardOrderKey}, or the group's in an ordered group), so
 * DingTalk gets the create first and the updates in commit order, whatever retries either needs. The create's
 * `outTrackId` is derived from the firing item ({@link alertCardId}), so a retried create is no second card (§10),
 * and each update carries the whole card, so a repeated one changes nothing: both idempotent (delivery/jobs.ts).
 */

import type { HubConfig } from '../config.js';
import type { Job } from '../delivery/jobs.js';
import { groupOrdered } from '../messages/plan.js';
import type { Conversation } from './rules.js';

export interface AlertCardPlace {
  app: string;
  alias: string;
  openConversationId: string;
  templateId: string;
}

/** The template alert cards are created with, or undefined when they are off. */
export function alertCardTemplate(cfg: HubConfig): string | undefined {
  const c = cfg.gateways?.cards;
  if (c && !c.enabled) return undefined;
  return c?.templateId ?? cfg.tasks.cards?.templateId;
}

/** Where this conversation's alert cards go, when it gets cards at all. */
export function alertCardPlace(cfg: HubConfig, conv: Conversation): AlertCardPlace | undefined {
  if (conv.group === undefined || (conv.via !== undefined && conv.via !== 'app')) return undefined;
  const templateId = alertCardTemplate(cfg);
  if (templateId === undefined) return undefined;
  const g = cfg.groups[conv.group];
  if (!g?.app || g.robot !== undefined || !g.openConversationId) return undefined;
  return { app: g.app, alias: conv.group, openConversationId: g.openConversationId, templateId };
}

/** The card instance's id at DingTalk, derived from the item that announced the alert firing (§10). */
export function alertCardId(route: string, itemId: number): string {
  return `dingkit-alert-${route}-${itemId}`;
}

/** An alert card's create and updates share this key, so DingTalk gets the create first and updates in order. */
export function alertCardOrderKey(cardId: string): string {
  return `card:${cardId}`;
}

/** In an ordered group the card is one of the group's messages (docs/hub.md "Ordering"); else its own key. */
function orderKey(cfg: HubConfig, alias: string, cardId: string): string {
  return groupOrdered(cfg, alias) ? `group:${alias}` : alertCardOrderKey(cardId);
}

/** Where clicks would come back (the card has link buttons only, so none are expected): as task cards do (§S8). */
function callback(cfg: HubConfig): { callbackType: 'STREAM' | 'HTTP'; callbackRouteKey?: string } {
  if (cfg.inbound?.mode === 'http') {
    return { callbackType: 'HTTP', callbackRouteKey: cfg.tasks.cards.http.routeKey };
  }
  return { callbackType: 'STREAM' };
}

export function alertCardCreateJob(
  cfg: HubConfig,
  place: AlertCardPlace,
  cardId: string,
  cardData: Record<string, string>,
): Job {
  return {
    channel: 'app',
    target: place.alias,
    payload: {
      t: 'cardCreate',
      app: place.app,
      card: {
        outTrackId: cardId,
        templateId: place.templateId,
        openConversationId: place.openConversationId,
        cardData,
        ...callback(cfg),
      },
    },
    orderKey: orderKey(cfg, place.alias, cardId),
  };
}

export function alertCardUpdateJob(
  cfg: HubConfig,
  alias: string,
  card: { id: string; app: string },
  cardData: Record<string, string>,
): Job {
  return {
    channel: 'app',
    target: alias,
    payload: { t: 'cardUpdate', app: card.app, update: { outTrackId: card.id, cardData } },
    orderKey: orderKey(cfg, alias, card.id),
  };
}

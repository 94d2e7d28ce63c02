/**
 * Which cards a flush round creates and updates for one conversation (alert-cards.ts has the where and the jobs;
 * flush.ts commits them with the items). Decided from the round's outcome (flush.ts `decide`):
 *
 * | this round                                                   | card job                                  | markdown |
 * |--------------------------------------------------------------|-------------------------------------------|----------|
 * | one item out, a firing alert                                 | create (firing)                           | none     |
 * | one item out, a resolved alert whose firing was a card       | update (resolved, at, duration, flaps)    | none     |
 * | several items out (a digest)                                 | update for each resolved alert with a card | digest   |
 * | a refire folded as a flap, the alert's card still firing      | update (firing, flap count)               | —        |
 * | anything else (events, alerts announced by a message)         | none                                      | as before |
 *
 * A digest stays markdown: a storm must not become a storm of cards (the gates bound messages, and each card is
 * one message). Cards are only ever created by a single-item round, so the updates a digest adds are bounded by
 * the cards the gates already let through, and no card is left showing "firing" for an alert that resolved.
 */

import type { Job } from '../delivery/jobs.js';
import { type AlertCardView, alertCardData } from './alert-card-view.js';
import { type AlertCardPlace, alertCardCreateJob, alertCardId, alertCardUpdateJob } from './alert-cards.js';
import type { Decided, FlushDeps, LoadedRoute } from './flush-types.js';
import type { PendingItem } from './hook-store.js';
import { resolveMentions } from './mentions.js';

export interface CardPlan {
  /** The round's one item goes out as this card job instead of a markdown message. */
  single?: { job: Job; created?: { id: string; app: string } };
  /** Updates beside the round's message (resolved alerts in a digest, flaps). */
  extra: Job[];
}

export async function planAlertCards(
  d: FlushDeps,
  loaded: LoadedRoute,
  place: AlertCardPlace,
  decided: Decided,
  now: number,
): Promise<CardPlan> {
  const plan: CardPlan = { extra: [] };
  const locale = loaded.route.locale ?? d.config.locale;
  const render = async (it: PendingItem, state: 'firing' | 'resolved', flaps: number) =>
    alertCardData(await view(d, loaded, it, state, flaps, now), locale);
  const out = decided.out;
  const only = out.length === 1 ? out[0] : undefined;
  const fp = only?.item.fingerprint;
  if (only && fp !== undefined && only.item.kind !== 'event') {
    const st = decided.states.get(fp);
    if (only.item.kind === 'firing') {
      const id = alertCardId(loaded.route.name, only.id);
      const data = await render(only, 'firing', st?.flaps ?? 0);
      plan.single = {
        job: alertCardCreateJob(d.config, place, id, data),
        created: { id, app: place.app },
      };
    } else if (st?.card) {
      const data = await render(only, 'resolved', st.flaps);
      plan.single = { job: alertCardUpdateJob(d.config, place.alias, st.card, data) };
    }
  } else if (out.length > 1) {
    for (const it of out) {
      const f = it.item.fingerprint;
      const st = f !== undefined ? decided.states.get(f) : undefined;
      if (it.item.kind !== 'resolved' || !st?.card) continue;
      plan.extra.push(
        alertCardUpdateJob(d.config, place.alias, st.card, await render(it, 'resolved', st.flaps)),
      );
    }
  }
  // A flap keeps the card firing and shows the count; an alert that also goes out this round shows it there.
  const outFps = new Set(out.map((o) => o.item.fingerprint));
  for (const [f, it] of decided.flapped) {
    const st = decided.states.get(f);
    if (outFps.has(f) || !st?.card || st.status !== 'firing') continue;
    plan.extra.push(alertCardUpdateJob(d.config, place.alias, st.card, await render(it, 'firing', st.flaps)));
  }
  return plan;
}

async function view(
  d: FlushDeps,
  loaded: LoadedRoute,
  it: PendingItem,
  state: 'firing' | 'resolved',
  flaps: number,
  now: number,
): Promise<AlertCardView> {
  const { item } = it;
  // The names the alert carries, resolved or not: the card is the same card (app robots cannot @, §3.1).
  const m = await resolveMentions(
    d.people,
    [{ item: { ...item, kind: 'firing' }, mentionAll: it.mentionAll }],
    loaded.route.mentions.from,
  );
  const names = [...m.people.map((p) => p.name), ...m.unknown.slice(0, 20)];
  if (m.all || m.allRefused) names.push('@all');
  const start = time(item.startsAt);
  const end = state === 'resolved' ? (time(item.endsAt) ?? now) : undefined;
  return {
    item,
    state,
    since: start === undefined ? '' : d.zone.format(start),
    until: end === undefined ? '' : d.zone.format(end),
    durationMs: start !== undefined && end !== undefined && end >= start ? end - start : undefined,
    flaps,
    names,
    hidden: loaded.route.mentions.from,
  };
}

/** An Alertmanager time; its zero time (`0001-01-01…`, "not ended") and unparsable ones are unknown. */
function time(iso: string | undefined): number | undefined {
  if (!iso || iso.startsWith('0001-')) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

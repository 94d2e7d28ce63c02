/**
 * From pending items to outbox messages, one conversation at a time (the decision and its effects are the design):
 *
 * 1. **Gates**: while this conversation already has `maxInFlight` gateway messages queued or being sent, or the
 *    gateway has used its share (`budgetShare`) of the robot's budget in the current window, nothing new is made
 *    for it: its items wait, and whatever arrived meanwhile goes out as one digest once the gate opens. The outbox
 *    limiter paces each robot within its budget (docs/dingtalk.md §2.6: 20 a minute) whatever is queued; the gates
 *    bound the number of messages by that budget instead of by the number of alerts, so a storm becomes a few
 *    digests (each counting every alert it carries) and no backlog builds up behind the limiter.
 * 2. **Alert state** (per fingerprint): a firing alert already announced is a repeat (folded into the message
 *    that announced it). A resolved alert waits `flapWindowMs` (its `due_at`); if it fires again in that window,
 *    both are folded and the alert's `flaps` count goes up, shown on its next message. A resolved alert refers to
 *    the message that announced it firing (a text reply: custom robots cannot thread, §2.4), or, where that was an
 *    interactive card (a group its app robot serves), updates the card in place (alert-card-plan.ts).
 * 3. **Message**: one item → its kind's template; several → the digest template. Mentions from the items'
 *    labels (mentions.ts). Planned by the hub's own message plan (channel, @mentions, keyword, splitting over the
 *    robot's size cap), enqueued in the transaction that marks the items done, so an item is sent exactly when
 *    its message is committed: a crash before leaves it pending, after leaves it done.
 */

export type { Decided, FlushDeps, LoadedRoute } from './flush-types.js';

import { ValidationError } from '../../core/errors.js';
import type { Job } from '../delivery/jobs.js';
import { type MentionTarget, planMessage } from '../messages/plan.js';
import { planAlertCards } from './alert-card-plan.js';
import { alertCardPlace } from './alert-cards.js';
import type { Decided, FlushDeps, LoadedRoute } from './flush-types.js';
import type { AlertState, PendingItem } from './hook-store.js';
import type { HookItem } from './items.js';
import { mentionLine, resolveMentions } from './mentions.js';
import { parseConversationKey } from './rules.js';
import type { RenderedText, TemplateKind } from './templates.js';

/** Lines listed in a digest; the rest are counted ("… and N more"). */
const DIGEST_LINES = 20;

/** One round for one conversation; returns the number of items it moved out of `pending`. */
export async function flushConversation(
  d: FlushDeps,
  routeName: string,
  target: string,
  now: number,
): Promise<number> {
  const conv = parseConversationKey(target);
  // What the outbox calls this conversation (deliveries.target): a group's alias, a person's display name.
  const alias = conv.group ?? displayName(d, conv.person ?? '');
  const loaded = d.routes.get(routeName);
  if ((await d.hooks.inFlight(alias)) >= d.maxInFlight) return 0;
  const budget = budgetOf(d, conv);
  const share = Math.max(1, Math.floor(budget.limit * d.budgetShare));
  if ((await d.hooks.sentSince(target, now - budget.windowMs)) >= share) return 0;
  const items = await d.hooks.pending(routeName, target, now, d.batch ?? 5_000);
  if (items.length === 0) return 0;
  if (!loaded) {
    // The route left the config while items were waiting: say so on the rows instead of keeping them forever.
    await d.hooks.store.transaction((tx) =>
      d.hooks.finish(tx, ids(items), 'failed', null, 'route no longer configured', now),
    );
    d.items.inc({ route: routeName, outcome: 'failed' }, items.length);
    return items.length;
  }
  const decided = await decide(d, routeName, target, items, now);
  // In a group its app robot serves, single alerts are cards that their resolve updates (alert-cards.ts).
  const place = alertCardPlace(d.config, conv);
  const cards = place ? await planAlertCards(d, loaded, place, decided, now) : undefined;
  let message: { text: RenderedText; mention: MentionTarget[]; all: boolean } | undefined;
  let to: MentionTarget[] | undefined;
  let failure: string | undefined;
  if (decided.out.length > 0 && !cards?.single) {
    try {
      message = await compose(d, loaded, decided, now);
      if (conv.person !== undefined) {
        const p = await d.people.resolve(conv.person, { userId: true });
        to = [{ name: p.name, userId: p.userId, mobile: p.mobile }];
      }
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      failure = e.message;
    }
  }
  let jobs: Job[] | undefined = cards?.single ? [cards.single.job] : undefined;
  if (message && !failure) {
    try {
      jobs = planMessage(
        {
          group: conv.group,
          to,
          via: conv.via,
          text: message.text.text,
          format: 'markdown',
          title: message.text.title,
          mention: message.mention,
          mentionAll: message.all,
          // Hub-written: a keyword robot gets its keyword as a prefix instead of a refusal (plan.ts).
          addKeyword: true,
        },
        d.config,
      );
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      failure = e.message;
    }
  }
  if (message?.text.fallback) {
    d.logger.warn(
      { route: routeName, err: message.text.fallback.error },
      'hook template failed; built-in used',
    );
  }
  await d.hooks.store.transaction(async (tx) => {
    let messageId: string | null = null;
    if (jobs) {
      const r = await d.outbox.enqueue(
        {
          kind: 'hook',
          request: { route: routeName, target, items: decided.out.length, folded: decided.folded.length },
          createdBy: `hook:${routeName}`,
          jobs: [...jobs, ...(cards?.extra ?? [])],
        },
        tx,
      );
      messageId = r.messageId;
      await d.hooks.finish(tx, ids(decided.out), 'sent', messageId, null, now);
    } else if (cards && cards.extra.length > 0) {
      // No message this round, but cards to update (flaps): their own outbox message.
      await d.outbox.enqueue(
        {
          kind: 'hook',
          request: { route: routeName, target, cards: cards.extra.length },
          createdBy: `hook:${routeName}`,
          jobs: cards.extra,
        },
        tx,
      );
    }
    if (!jobs && decided.out.length > 0) {
      await d.hooks.finish(tx, ids(decided.out), 'failed', null, (failure ?? 'not sent').slice(0, 500), now);
    }
    for (const f of decided.folded)
      await d.hooks.finish(tx, [f.id], 'coalesced', f.into ?? messageId, f.note, now);
    if (decided.cancelled.length > 0) {
      await d.hooks.finish(
        tx,
        decided.cancelled,
        'coalesced',
        null,
        'flap: fired again within the window',
        now,
      );
    }
    for (const it of decided.out) {
      const fp = it.item.fingerprint;
      if (fp === undefined) continue;
      const s = decided.states.get(fp)!;
      // The message that carries the alert's new state is the one a later resolved reply refers to.
      if (messageId === null) continue;
      // A card created for it is what its resolve updates (a new incident's card replaces the last one's).
      const card = cards?.single?.created ?? s.card;
      decided.states.set(fp, { ...s, messageId, postedAt: now, card });
    }
    await d.hooks.saveAlerts(tx, routeName, target, decided.states, now);
  });
  const sentOutcome = decided.out.length > 1 ? 'digested' : 'sent';
  if (decided.out.length > 0)
    d.items.inc({ route: routeName, outcome: jobs ? sentOutcome : 'failed' }, decided.out.length);
  const folded = decided.folded.length + decided.cancelled.length;
  if (folded > 0) d.items.inc({ route: routeName, outcome: 'coalesced' }, folded);
  if (failure) d.logger.warn({ route: routeName, target, err: failure }, 'hook items could not be sent');
  return decided.out.length + folded;
}

function displayName(d: FlushDeps, person: string): string {
  const key = d.people.keyOf(person);
  return key === undefined ? person : (d.config.people[key]?.name ?? key);
}

/** The budget of the robot that carries this conversation's messages (docs/dingtalk.md §2.6). */
function budgetOf(d: FlushDeps, conv: { group?: string | undefined }): { limit: number; windowMs: number } {
  const robot = conv.group !== undefined ? d.config.groups[conv.group]?.robot : undefined;
  return (
    (robot !== undefined ? d.config.robots[robot]?.budget : undefined) ?? d.config.dispatcher.robotBudget
  );
}

function ids(items: readonly { id: number }[]): number[] {
  return items.map((i) => i.id);
}

async function decide(
  d: FlushDeps,
  route: string,
  target: string,
  items: PendingItem[],
  now: number,
): Promise<Decided> {
  const fps = [...new Set(items.map((i) => i.item.fingerprint).filter((f): f is string => f !== undefined))];
  const known = await d.hooks.alerts(d.hooks.store.db, route, target, fps);
  const held = await d.hooks.heldResolved(d.hooks.store.db, route, target, fps, now);
  const states = new Map<string, AlertState>();
  const r: Decided = { out: [], folded: [], cancelled: [], states, flaps: 0, flapped: new Map() };
  // A resolve followed within the window by a refire of the same alert, both in this batch (the gates held them
  // together): a flap, like a refire that finds its resolve still held back.
  const flapFiring = new Set<number>();
  for (const [k, it] of items.entries()) {
    if (it.item.kind !== 'resolved' || it.item.fingerprint === undefined || d.flapWindowMs === 0) continue;
    const refire = items
      .slice(k + 1)
      .find(
        (x) =>
          x.item.kind === 'firing' &&
          x.item.fingerprint === it.item.fingerprint &&
          !flapFiring.has(x.id) &&
          x.receivedAt - it.receivedAt <= d.flapWindowMs,
      );
    if (refire) {
      flapFiring.add(refire.id);
      flapFiring.add(it.id);
    }
  }
  for (const it of items) {
    const fp = it.item.fingerprint;
    if (it.item.kind === 'event' || fp === undefined) {
      r.out.push(it);
      continue;
    }
    const st = states.get(fp) ?? known.get(fp);
    if (flapFiring.has(it.id)) {
      // The resolve half counts the flap; the alert stays as it was (firing, announced by st.messageId).
      if (it.item.kind === 'resolved') {
        r.flaps += 1;
        if (st) states.set(fp, { ...st, flaps: st.flaps + 1 });
      } else r.flapped.set(fp, it);
      r.folded.push({ id: it.id, into: st?.messageId ?? null, note: 'flap: fired again within the window' });
      continue;
    }
    if (it.item.kind === 'firing') {
      // Only resolves that came before this refire: a later one is the end of the next incident.
      const fresh = (held.get(fp) ?? []).filter((h) => h < it.id && !r.cancelled.includes(h));
      if (st?.status === 'firing') {
        if (fresh.length > 0) {
          r.cancelled.push(...fresh);
          r.flaps += 1;
          states.set(fp, { ...st, flaps: st.flaps + 1 });
          r.flapped.set(fp, it);
          r.folded.push({ id: it.id, into: st.messageId, note: 'flap: fired again within the window' });
        } else {
          r.folded.push({ id: it.id, into: st.messageId, note: 'repeat: already announced' });
        }
        continue;
      }
      states.set(fp, {
        status: 'firing',
        messageId: null,
        postedAt: null,
        flaps: st?.flaps ?? 0,
        card: null,
      });
      // A new incident keeps nothing of the last one's reference, but carries the flaps it had.
      r.out.push(it);
      continue;
    }
    // resolved
    if (it.item.onlyIfFiring && st?.status !== 'firing') {
      // A green CI run after green ones: nothing to resolve, nothing to say.
      r.folded.push({ id: it.id, into: st?.messageId ?? null, note: 'nothing firing to resolve' });
      continue;
    }
    if (st?.status === 'resolved') {
      r.folded.push({ id: it.id, into: st?.messageId ?? null, note: 'repeat: already resolved' });
      continue;
    }
    states.set(fp, {
      status: 'resolved',
      // Kept until the resolved message is committed, so the template can refer to the firing message.
      messageId: st?.messageId ?? null,
      postedAt: st?.postedAt ?? null,
      flaps: st?.flaps ?? 0,
      // The card that announced it firing, which this resolve updates (alert-card-plan.ts).
      card: st?.card ?? null,
    });
    r.out.push(it);
  }
  // States as they were before this round, for the templates' references (firing message, flaps).
  for (const [fp, s] of known) if (!states.has(fp)) states.set(fp, s);
  return r;
}

function labelList(item: HookItem): Array<{ name: string; value: string }> {
  return Object.entries(item.labels)
    .filter(([k]) => k !== 'alertname')
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, 30)
    .map(([name, value]) => ({ name, value }));
}

function when(d: FlushDeps, iso: string | undefined): string {
  if (!iso || iso.startsWith('0001-')) return '';
  return d.zone.formatIso(iso);
}

async function compose(
  d: FlushDeps,
  loaded: LoadedRoute,
  decided: Decided,
  _now: number,
): Promise<{ text: RenderedText; mention: MentionTarget[]; all: boolean }> {
  const { from, always } = loaded.route.mentions;
  const m = await resolveMentions(d.people, decided.out, from, always);
  const mentions = mentionLine(m);
  const counts = { total: decided.out.length, firing: 0, resolved: 0, event: 0 };
  for (const o of decided.out) counts[o.item.kind] += 1;
  let kind: TemplateKind;
  let ctx: Record<string, unknown>;
  if (decided.out.length === 1) {
    const it = decided.out[0]!;
    kind = it.item.kind;
    const st = it.item.fingerprint !== undefined ? decided.states.get(it.item.fingerprint) : undefined;
    ctx = {
      route: loaded.route.name,
      item: it.item,
      body: it.item.body ?? {},
      labels: labelList(it.item),
      since: when(d, it.item.startsAt),
      until: when(d, it.item.endsAt),
      firing: it.item.kind === 'resolved' && st?.postedAt != null ? { at: d.zone.format(st.postedAt) } : null,
      flaps: st?.flaps ?? 0,
      mentions,
      counts,
    };
  } else {
    kind = 'digest';
    const shown = decided.out.slice(0, DIGEST_LINES).map((o) => ({
      kind: o.item.kind,
      name: clip(o.item.labels['alertname'] ?? stringField(o.item.body, 'title') ?? o.item.kind, 80),
      detail: clip(o.item.annotations['summary'] ?? o.item.labels['instance'] ?? '', 120),
      item: o.item,
    }));
    let flaps = decided.flaps;
    for (const o of decided.out) {
      const fp = o.item.fingerprint;
      if (fp !== undefined) flaps += decided.states.get(fp)?.flaps ?? 0;
    }
    ctx = {
      route: loaded.route.name,
      counts,
      shown,
      items: shown,
      more: decided.out.length - shown.length,
      flaps,
      mentions,
    };
  }
  return { text: await loaded.templates.render(kind, ctx), mention: m.people, all: m.all };
}

function stringField(body: unknown, key: string): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const v = Object.hasOwn(body, key) ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

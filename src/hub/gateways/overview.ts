/**
 * What `dingkit hooks list` and `GET /v1/hooks` show of the hook routes: each route's name, kind, the kind of
 * auth (never the secret), its rules in one line each, the URL to paste into the sender, and the last deliveries
 * it accepted with what became of them (docs/gateways.md "The CLI").
 *
 * A delivery's items are the `hook_items` rows of its route that carry its dedupe key (`request_key`, written with
 * them by `accept`, migration 013). Rows accepted before that column have none and are matched by the millisecond
 * they were received in (which merges two deliveries of that millisecond). Nothing here writes.
 */

import { z } from 'zod';
import type { Store } from '../../store/open-store.js';
import type { HookItemState } from '../../store/schema.js';
import type { HookAuth, HookRoute, HookRule, HookTargets } from './config.js';
import type { HookItem } from './items.js';

export const hookRequestViewSchema = z
  .object({
    receivedAt: z.string().describe('ISO time the delivery was accepted'),
    result: z
      .enum(['pending', 'sent', 'coalesced', 'failed', 'unrouted'])
      .describe(
        'pending: some items wait (a gate, the flap window); failed: a target was refused; sent: in a message; coalesced: a repeat or a flap; unrouted: no rule matched',
      ),
    items: z.number().int().describe('Items stored (one per alert and conversation it was routed to)'),
    states: z.record(z.string(), z.number().int()),
    messageIds: z
      .array(z.string())
      .describe('Outbox messages that carried its items (GET /v1/messages/{id})'),
    summary: z.string().describe('One line: kinds and names of its items'),
  })
  .meta({ id: 'HookRequest' });
export type HookRequestView = z.infer<typeof hookRequestViewSchema>;

export const hookRouteViewSchema = z
  .object({
    name: z.string(),
    kind: z.string(),
    auth: z
      .object({ type: z.enum(['bearer', 'basic', 'token', 'hmac']), header: z.string().optional() })
      .describe('How the sender proves itself; the secret is never shown'),
    url: z.string().describe("The URL to paste into the sender: the hub's public URL + /hooks/<name>"),
    rules: z.array(z.string()).describe('One line per rule: matchers → targets'),
    fallback: z
      .string()
      .nullable()
      .describe('Where items no rule matched go (null: nowhere, counted unrouted)'),
    recent: z.array(hookRequestViewSchema).describe('The last accepted deliveries, newest first'),
  })
  .meta({ id: 'HookRoute' });
export type HookRouteView = z.infer<typeof hookRouteViewSchema>;

/** The read side of the hook routes, as the hub serves it (HubService `hookRoutes`). */
export interface HookRoutesService {
  /** Every configured route with its last `recent` deliveries (0-50). */
  list(recent: number): Promise<HookRouteView[]>;
  /** One accepted delivery by its dedupe key (what `hooks test` computes for its sample); undefined if unknown. */
  request(route: string, dedupKey: string): Promise<HookRequestView | undefined>;
}

export function authView(a: HookAuth): HookRouteView['auth'] {
  return a.type === 'token' || a.type === 'hmac' ? { type: a.type, header: a.header } : { type: a.type };
}

function targetsLine(t: HookTargets): string {
  const parts = [
    ...(t.groups.length > 0 ? [`groups ${t.groups.join(', ')}`] : []),
    ...(t.people.length > 0 ? [`people ${t.people.join(', ')}`] : []),
  ];
  return `${parts.join('; ') || 'nobody'}${t.via ? ` via ${t.via}` : ''}`;
}

export function ruleLine(r: HookRule): string {
  const m = [
    ...Object.entries(r.match).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(r.matchRe).map(([k, v]) => `${k}=~${v}`),
  ];
  const flags = [...(r.mentionAll ? ['@all allowed'] : []), ...(r.continue ? ['continue'] : [])];
  return `${m.join(', ') || '(every item)'} → ${targetsLine(r.targets)}${flags.length ? ` (${flags.join(', ')})` : ''}`;
}

const RESULT_ORDER = ['pending', 'failed', 'sent', 'coalesced'] as const;

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/** `2 firing, 1 resolved: DiskFull, HighLatency` or the event's title: from the items' payloads. */
export function summaryOf(items: readonly HookItem[]): string {
  if (items.length === 0) return 'no item routed';
  const seen = new Set<string>();
  const unique = items.filter((i) => {
    const k = i.fingerprint ?? JSON.stringify(i.labels);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const counts = new Map<string, number>();
  for (const i of unique) counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1);
  const names = [
    ...new Set(
      unique.map((i) => {
        const body = i.body as Record<string, unknown> | undefined;
        const title = body && typeof body['title'] === 'string' ? body['title'] : undefined;
        return i.labels['alertname'] ?? title ?? i.kind;
      }),
    ),
  ];
  const kinds = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  return clip(`${kinds}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`, 160);
}

interface ItemRow {
  id: number | string;
  received_at: number | string;
  request_key: string | null;
  state: HookItemState;
  message_id: string | null;
}

export class HookOverview implements HookRoutesService {
  readonly #store: Store;
  readonly #routes: readonly HookRoute[];
  readonly #publicUrl: () => string;

  constructor(o: { store: Store; routes: readonly HookRoute[]; publicUrl: () => string }) {
    this.#store = o.store;
    this.#routes = o.routes;
    this.#publicUrl = o.publicUrl;
  }

  async list(recent: number): Promise<HookRouteView[]> {
    const base = this.#publicUrl().replace(/\/+$/, '');
    const out: HookRouteView[] = [];
    for (const r of this.#routes) {
      const rows =
        recent > 0
          ? await this.#store.db
              .selectFrom('hook_requests')
              .select(['dedup_key', 'items', 'received_at'])
              .where('route', '=', r.name)
              .orderBy('received_at', 'desc')
              .limit(Math.min(recent, 50))
              .execute()
          : [];
      out.push({
        name: r.name,
        kind: r.kind,
        auth: authView(r.auth),
        url: `${base}/hooks/${r.name}`,
        rules: r.rules.map(ruleLine),
        fallback: r.targets ? targetsLine(r.targets) : null,
        recent: await this.#views(r.name, rows),
      });
    }
    return out;
  }

  async request(route: string, dedupKey: string): Promise<HookRequestView | undefined> {
    const row = await this.#store.db
      .selectFrom('hook_requests')
      .select(['dedup_key', 'items', 'received_at'])
      .where('route', '=', route)
      .where('dedup_key', '=', dedupKey)
      .executeTakeFirst();
    if (!row) return undefined;
    return (await this.#views(route, [row]))[0];
  }

  async #views(
    route: string,
    requests: ReadonlyArray<{ dedup_key: string; items: number | string; received_at: number | string }>,
  ): Promise<HookRequestView[]> {
    if (requests.length === 0) return [];
    const cols = ['id', 'received_at', 'request_key', 'state', 'message_id'] as const;
    // A delivery's items by its key (migration 013); items accepted before that have none and are matched by the
    // millisecond they were received in, which cannot tell apart two deliveries of that millisecond.
    const keyed: ItemRow[] = await this.#store.db
      .selectFrom('hook_items')
      .select(cols)
      .where('route', '=', route)
      .where(
        'request_key',
        'in',
        requests.map((q) => q.dedup_key),
      )
      .orderBy('id')
      .limit(5_000)
      .execute();
    const legacy: ItemRow[] = await this.#store.db
      .selectFrom('hook_items')
      .select(cols)
      .where('route', '=', route)
      .where('request_key', 'is', null)
      .where('received_at', 'in', [...new Set(requests.map((q) => Number(q.received_at)))])
      .orderBy('id')
      .limit(5_000)
      .execute();
    const byKey = new Map<string, ItemRow[]>();
    for (const r of keyed) byKey.set(r.request_key!, [...(byKey.get(r.request_key!) ?? []), r]);
    const byTime = new Map<number, ItemRow[]>();
    for (const r of legacy) {
      const t = Number(r.received_at);
      byTime.set(t, [...(byTime.get(t) ?? []), r]);
    }
    const itemsOf = (q: (typeof requests)[number]): ItemRow[] =>
      byKey.get(q.dedup_key) ?? byTime.get(Number(q.received_at)) ?? [];
    // Payloads (up to a route's body cap each) only for a handful of items per delivery: enough for one line.
    const sampleIds = requests.flatMap((q) =>
      itemsOf(q)
        .slice(0, 20)
        .map((r) => Number(r.id)),
    );
    const payloads = new Map<number, HookItem>();
    for (let i = 0; i < sampleIds.length; i += 200) {
      const ps = await this.#store.db
        .selectFrom('hook_items')
        .select(['id', 'payload'])
        .where('id', 'in', sampleIds.slice(i, i + 200))
        .execute();
      for (const p of ps) payloads.set(Number(p.id), JSON.parse(p.payload) as HookItem);
    }
    return requests.map((q) => {
      const items = itemsOf(q);
      const states: Record<string, number> = {};
      for (const it of items) states[it.state] = (states[it.state] ?? 0) + 1;
      const result = items.length === 0 ? 'unrouted' : (RESULT_ORDER.find((s) => states[s]) ?? 'sent');
      return {
        receivedAt: new Date(Number(q.received_at)).toISOString(),
        result,
        items: Number(q.items),
        states,
        messageIds: [...new Set(items.flatMap((i) => (i.message_id ? [i.message_id] : [])))],
        summary: summaryOf(items.flatMap((i) => payloads.get(Number(i.id)) ?? [])),
      };
    });
  }
}

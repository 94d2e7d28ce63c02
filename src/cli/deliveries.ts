/**
 * `dingkit deliveries list|show|redrive`: the queue as an operator sees it, what DingTalk did with each sent
 * message (its recipients: delivered, read, dropped and why), and putting dead letters back.
 */

import type { Delivery, DeliveryStatus } from '../hub/service.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { table } from './io.js';

export const deliveriesHelp = `Usage: dingkit deliveries list [--status S | --dead] [--dropped] [--limit N]
       dingkit deliveries show ID
       dingkit deliveries redrive ID... | --all-dead

Statuses: queued, sending, sent, parked (outcome unknown, waiting for you), dead, cancelled.
--dropped: only deliveries DingTalk accepted but did not deliver to someone (a work notice's daily cap,
the same content twice a day, an unknown user); show lists each recipient's outcome and why.
redrive needs an admin token.`;

const STATUSES = ['queued', 'sending', 'sent', 'parked', 'dead', 'cancelled'] as const;

export async function deliveriesVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list' || sub === 'ls') return listDeliveries(rest, ctx);
  if (sub === 'show') return showDelivery(rest, ctx);
  if (sub === 'redrive') return redrive(rest, ctx);
  throw usage(
    sub
      ? `unknown deliveries command "${sub.slice(0, 20)}" (list, show, redrive)`
      : 'deliveries needs a command: list, show, redrive',
  );
}

async function listDeliveries(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(
    args,
    {
      status: { type: 'string' },
      dead: { type: 'boolean' },
      dropped: { type: 'boolean' },
      limit: { type: 'string' },
    },
    false,
  );
  if (v.dead && v.status !== undefined) throw usage('give --dead or --status, not both');
  const status = v.dead ? 'dead' : v.status;
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    throw usage(`--status is one of ${STATUSES.join(', ')}`);
  }
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    throw usage('--limit is 1-1000');
  const hub = await ctx.hub();
  const rows = await hub.listDeliveries({
    status: status as DeliveryStatus | undefined,
    ...(v.dropped ? { dropped: true } : {}),
    limit,
  });
  const zone = await ctx.zone();
  ctx.out.result(rows, () =>
    rows.length === 0
      ? `no ${status ?? ''} deliveries${v.dropped ? ' with dropped recipients' : ''}`.replace('  ', ' ')
      : table(
          ['ID', 'STATUS', 'CHANNEL', 'TARGET', 'ATTEMPTS', 'RECIPIENTS', 'UPDATED', 'LAST ERROR'],
          rows.map((d) => [
            d.id,
            d.status,
            d.channel,
            d.target + (d.part ? ` (${d.part.index}/${d.part.count})` : ''),
            String(d.attempts),
            recipientSummary(d),
            zone.formatIso(d.updatedAt),
            d.lastError ?? '',
          ]),
        ),
  );
  return EXIT.ok;
}

/** `2 delivered, 1 dropped`: the outcomes DingTalk reported, the drops first to catch the eye. */
export function recipientSummary(d: Delivery): string {
  const r = d.recipients;
  if (!r) return '';
  const parts: string[] = [];
  if (r.dropped > 0) parts.push(`${r.dropped} dropped`);
  if (r.read > 0) parts.push(`${r.read} read`);
  if (r.delivered > 0) parts.push(`${r.delivered} delivered`);
  if (r.pending > 0) parts.push(`${r.pending} pending`);
  return parts.join(', ');
}

async function showDelivery(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parse(args, {});
  const id = positionals[0];
  if (id === undefined || positionals.length > 1) throw usage('give one delivery id');
  const hub = await ctx.hub();
  const d = await hub.getDelivery(id);
  if (!d) throw new CliError(EXIT.notFound, `no delivery ${id.slice(0, 40)}`, 'not_found');
  const zone = await ctx.zone();
  ctx.out.result(d, () => {
    const head = [
      `delivery ${d.id}: ${d.status} (${d.channel} → ${d.target}), message ${d.messageId}`,
      ...(d.remoteId ? [`DingTalk id: ${d.remoteId}`] : []),
      ...(d.lastError ? [`last error: ${d.lastError}`] : []),
      ...(d.check
        ? [
            `send result: asked ${d.check.asked} time${d.check.asked === 1 ? '' : 's'}, ${
              d.check.nextAt ? `next at ${zone.formatIso(d.check.nextAt)}` : 'done'
            }${d.check.lastError ? ` (last error: ${d.check.lastError})` : ''}`,
          ]
        : []),
    ];
    if (d.people.length === 0) return [...head, 'no recipient outcomes recorded'].join('\n');
    return [
      ...head,
      table(
        ['RECIPIENT', 'OUTCOME', 'CODE', 'WHY', 'FALLBACK', 'UPDATED'],
        d.people.map((p) => [
          p.userId,
          p.outcome,
          p.reasonCode ?? '',
          p.reason ?? '',
          p.fallbackDeliveryId ?? '',
          zone.formatIso(p.updatedAt),
        ]),
      ),
    ].join('\n');
  });
  return EXIT.ok;
}

async function redrive(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, { 'all-dead': { type: 'boolean' } });
  if (v['all-dead'] === positionals.length > 0) throw usage('give delivery ids or --all-dead');
  const hub = await ctx.hub();
  const moved = await hub.redrive(v['all-dead'] ? 'all-dead' : positionals, ctx.actor);
  ctx.out.result({ moved }, () => `${moved} deliver${moved === 1 ? 'y' : 'ies'} back in the queue`);
  return EXIT.ok;
}

/** `dingkit deliveries list|redrive`: the queue as an operator sees it, and putting dead letters back. */

import type { DeliveryStatus } from '../hub/service.js';
import { type CliContext, parse } from './context.js';
import { EXIT, usage } from './exit-codes.js';
import { table } from './io.js';

export const deliveriesHelp = `Usage: dingkit deliveries list [--status S | --dead] [--limit N]
       dingkit deliveries redrive ID... | --all-dead

Statuses: queued, sending, sent, parked (outcome unknown, waiting for you), dead, cancelled.
redrive needs an admin token.`;

const STATUSES = ['queued', 'sending', 'sent', 'parked', 'dead', 'cancelled'] as const;

export async function deliveriesVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list' || sub === 'ls') return listDeliveries(rest, ctx);
  if (sub === 'redrive') return redrive(rest, ctx);
  throw usage(
    sub
      ? `unknown deliveries command "${sub.slice(0, 20)}" (list, redrive)`
      : 'deliveries needs a command: list, redrive',
  );
}

async function listDeliveries(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(
    args,
    { status: { type: 'string' }, dead: { type: 'boolean' }, limit: { type: 'string' } },
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
  const rows = await hub.listDeliveries({ status: status as DeliveryStatus | undefined, limit });
  const zone = await ctx.zone();
  ctx.out.result(rows, () =>
    rows.length === 0
      ? `no ${status ?? ''} deliveries`.replace('  ', ' ')
      : table(
          ['ID', 'STATUS', 'CHANNEL', 'TARGET', 'ATTEMPTS', 'UPDATED', 'LAST ERROR'],
          rows.map((d) => [
            d.id,
            d.status,
            d.channel,
            d.target + (d.part ? ` (${d.part.index}/${d.part.count})` : ''),
            String(d.attempts),
            zone.formatIso(d.updatedAt),
            d.lastError ?? '',
          ]),
        ),
  );
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

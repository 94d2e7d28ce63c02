/**
 * `dingkit deliveries list|show|redrive|resolve`: the queue as an operator sees it, one delivery's evidence, putting
 * dead letters back, and settling a parked delivery (docs/hub.md "Parked deliveries").
 */

import type { DeliveryEvidence, DeliveryStatus, ResolveAction } from '../hub/service.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { table } from './io.js';

export const deliveriesHelp = `Usage: dingkit deliveries list [--status S | --dead | --parked] [--limit N]
       dingkit deliveries show ID
       dingkit deliveries redrive ID... | --all-dead
       dingkit deliveries resolve ID --mark-sent | --redrive | --drop [--note TEXT]

Statuses: queued, sending, sent, parked (outcome unknown, waiting for you), dead, cancelled.
show prints what was to be sent, every failed attempt, when it was parked and the decisions taken.
resolve settles a parked delivery, recorded with your name and note: --mark-sent (it did arrive),
--redrive (send it again: people may see it twice), --drop (never send it).
redrive and resolve need an admin token.`;

const STATUSES = ['queued', 'sending', 'sent', 'parked', 'dead', 'cancelled'] as const;

export async function deliveriesVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list' || sub === 'ls') return listDeliveries(rest, ctx);
  if (sub === 'redrive') return redrive(rest, ctx);
  if (sub === 'show') return show(rest, ctx);
  if (sub === 'resolve') return resolve(rest, ctx);
  throw usage(
    sub
      ? `unknown deliveries command "${sub.slice(0, 20)}" (list, show, redrive, resolve)`
      : 'deliveries needs a command: list, show, redrive, resolve',
  );
}

async function listDeliveries(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(
    args,
    {
      status: { type: 'string' },
      dead: { type: 'boolean' },
      parked: { type: 'boolean' },
      limit: { type: 'string' },
    },
    false,
  );
  if ([v.dead, v.parked, v.status !== undefined].filter(Boolean).length > 1) {
    throw usage('give one of --dead, --parked or --status');
  }
  const status = v.dead ? 'dead' : v.parked ? 'parked' : v.status;
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

/** A delivery id from the command line: the store's positive integers. */
function deliveryId(value: string | undefined): string {
  if (value === undefined || !/^[1-9][0-9]{0,15}$/.test(value))
    throw usage('a delivery id (a number) is needed');
  return value;
}

async function show(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw usage('give one delivery id');
  const id = deliveryId(positionals[0]);
  const hub = await ctx.hub();
  const e = await hub.deliveryEvidence(id);
  if (!e) throw new CliError(EXIT.notFound, `no delivery ${id}`, 'not_found');
  const zone = await ctx.zone();
  ctx.out.result(e, () => evidenceText(e, (iso) => zone.formatIso(iso)));
  return EXIT.ok;
}

/** The evidence as an operator reads it; every line is made terminal-safe by `Output.result`. */
export function evidenceText(e: DeliveryEvidence, at: (iso: string) => string): string {
  const lines = [
    `delivery ${e.id}  ${e.status}  ${e.kind} to ${e.target} via ${e.via} (${e.channel})`,
    `message   ${e.messageId}`,
    `created   ${at(e.createdAt)}`,
    `parked    ${e.parkedAt ? at(e.parkedAt) : '-'}`,
    `attempts  ${e.attempts}${e.lastError ? `  last error: ${e.lastError}` : ''}`,
    '',
    'What was to be sent:',
    ...JSON.stringify(e.payload, null, 2)
      .split('\n')
      .map((l) => `  ${l}`),
    '',
    'Failed attempts:',
    ...(e.failures.length === 0
      ? ['  none recorded']
      : e.failures.map(
          (f) =>
            `  ${at(f.at)}  #${f.attempt} ${f.action}${f.code ? `  ${f.code}` : ''}${f.outcome ? ` (${f.outcome})` : ''}  ${f.reason}`,
        )),
    '',
    'Decisions:',
    ...(e.decisions.length === 0
      ? ['  none']
      : e.decisions.map(
          (d) =>
            `  ${at(d.at)}  ${d.action} by ${d.by} (was ${d.previousStatus})${d.note ? `: ${d.note}` : ''}`,
        )),
  ];
  return lines.join('\n');
}

async function resolve(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, {
    'mark-sent': { type: 'boolean' },
    redrive: { type: 'boolean' },
    drop: { type: 'boolean' },
    note: { type: 'string' },
  });
  if (positionals.length !== 1) throw usage('give one delivery id');
  const id = deliveryId(positionals[0]);
  const chosen = (['mark-sent', 'redrive', 'drop'] as const).filter((a) => v[a]);
  if (chosen.length !== 1) throw usage('give exactly one of --mark-sent, --redrive, --drop');
  const action: ResolveAction = chosen[0]!;
  if (v.note !== undefined && v.note.length > 1_000) throw usage('--note is at most 1000 characters');
  const hub = await ctx.hub();
  const r = await hub.resolveDelivery(id, action, ctx.actor, v.note);
  if (!r) throw new CliError(EXIT.notFound, `no delivery ${id}`, 'not_found');
  const zone = await ctx.zone();
  ctx.out.result(r, () =>
    r.duplicate
      ? `delivery ${id}: already ${r.decision.action} by ${r.decision.by} at ${zone.formatIso(r.decision.at)} (now ${r.delivery.status})`
      : `delivery ${id}: ${action} recorded, now ${r.delivery.status}`,
  );
  return EXIT.ok;
}

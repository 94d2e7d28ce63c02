/**

 * `dingkit deliveries list|show|redrive|resolve`: the queue as an operator sees it, one delivery's evidence and what
 * DingTalk did with it for each recipient (delivered, read, dropped and why), putting dead letters back, and settling
 * a parked delivery (docs/hub.md "Parked deliveries", "Send results").
 */

import type { Delivery, DeliveryEvidence, DeliveryStatus, ResolveAction } from '../hub/service.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { table } from './io.js';

export const deliveriesHelp = `Usage: dingkit deliveries list [--status S | --dead | --parked] [--dropped] [--limit N]
       dingkit deliveries show ID
       dingkit deliveries redrive ID... | --all-dead
       dingkit deliveries resolve ID --mark-sent | --redrive | --drop [--note TEXT]

Statuses: queued, sending, sent, parked (outcome unknown, waiting for you), dead, cancelled.
--dropped: only deliveries DingTalk accepted but did not deliver to someone (a work notice's daily cap,
the same content twice a day, an unknown user).
show prints what was to be sent, every failed attempt, when it was parked, the decisions taken, and each
recipient's outcome and why.
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
      dropped: { type: 'boolean' },
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

async function redrive(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, { 'all-dead': { type: 'boolean' } });
  if (v['all-dead'] === positionals.length > 0) throw usage('give delivery ids or --all-dead');
  const hub = await ctx.hub();
  const moved = await hub.redrive(v['all-dead'] ? 'all-dead' : positionals, ctx.actor);
  ctx.out.result({ moved }, () => `${moved} deliver${moved === 1 ? 'y' : 'ies'} back in the queue`);
  return EXIT.ok;
}

/** What DingTalk reported for each recipient, and where the send-result questions stand (docs/hub.md "Send results"). */
function recipientLines(e: DeliveryEvidence, at: (iso: string) => string): string[] {
  const head = [
    ...(e.remoteId ? [`DingTalk id: ${e.remoteId}`] : []),
    ...(e.check
      ? [
          `send result: asked ${e.check.asked} time${e.check.asked === 1 ? '' : 's'}, ${
            e.check.nextAt ? `next at ${at(e.check.nextAt)}` : 'done'
          }${e.check.lastError ? ` (last error: ${e.check.lastError})` : ''}`,
        ]
      : []),
  ];
  if (e.people.length === 0)
    return ['Recipients:', ...head.map((l) => `  ${l}`), '  no recipient outcomes recorded'];
  return [
    'Recipients:',
    ...head.map((l) => `  ${l}`),
    table(
      ['RECIPIENT', 'OUTCOME', 'CODE', 'WHY', 'FALLBACK', 'UPDATED'],
      e.people.map((p) => [
        p.userId,
        p.outcome,
        p.reasonCode ?? '',
        p.reason ?? '',
        p.fallbackDeliveryId ?? '',
        at(p.updatedAt),
      ]),
    ),
  ];
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
    '',
    ...recipientLines(e, at),
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

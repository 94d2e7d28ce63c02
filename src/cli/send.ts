/**
 * `dingkit send`: one message from the arguments (or stdin with `-`), or, with `--lines`, one message per line
 * of stdin — the bulk mode, with a progress bar on a TTY. Each bulk line gets its own idempotency key derived
 * from `--idempotency-key` and the line number, so re-running a half-finished batch sends only what is missing.
 */

import type { SendMessageInput, SendResult } from '../hub/service.js';
import { type CliContext, list, parse } from './context.js';
import { EXIT, usage } from './exit-codes.js';
import { readAll } from './io.js';
import { ProgressBar } from './progress.js';

export const sendHelp = `Usage: dingkit send (--group ALIAS | --to NAME[,NAME]) [options] TEXT...
       echo "text" | dingkit send --group ops -
       dingkit send --group ops --lines < messages.txt

Options:
  --group ALIAS           group alias from the config
  --to NAMES              people by name or userId, comma separated
  --via robot|app|notice  force a channel
  --markdown              send as markdown (use --title)
  --title TEXT            markdown title (shown in notifications)
  --var KEY=VALUE         template variable for {{KEY}} (repeatable)
  --mention NAMES         @mention these people (comma separated)
  --at-all                @everyone
  --idempotency-key KEY   same key and message within 24 h sends nothing new; the key with another
                          message is refused (exit 7). Keys are per API token (the CLI's own when local)
  --ordered               deliver after this conversation's earlier ordered messages, one at a time
  --unordered             deliver as soon as the robot's budget allows (split parts stay in order)
                          (default for both: the conversation's setting, groups.<alias>.ordered)
  --lines                 one message per stdin line (bulk; progress bar on a TTY)
  --concurrency N         bulk requests in flight (default 4)`;

const options = {
  group: { type: 'string' },
  to: { type: 'string' },
  via: { type: 'string' },
  markdown: { type: 'boolean' },
  title: { type: 'string' },
  var: { type: 'string', multiple: true },
  mention: { type: 'string' },
  'at-all': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  ordered: { type: 'boolean' },
  unordered: { type: 'boolean' },
  lines: { type: 'boolean' },
  concurrency: { type: 'string' },
} as const;

export async function sendVerb(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, options);
  if ((v.group === undefined) === (v.to === undefined)) throw usage('give exactly one of --group or --to');
  if (v.via !== undefined && !['robot', 'app', 'notice'].includes(v.via)) {
    throw usage('--via is robot, app or notice');
  }
  if (v.ordered && v.unordered) throw usage('give at most one of --ordered or --unordered');
  const vars: Record<string, string> = {};
  for (const kv of v.var ?? []) {
    const i = kv.indexOf('=');
    if (i < 1) throw usage(`--var wants KEY=VALUE, got "${kv.slice(0, 40)}"`);
    vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const base: Omit<SendMessageInput, 'text'> = {
    group: v.group,
    to: list(v.to),
    via: v.via as SendMessageInput['via'],
    format: v.markdown ? 'markdown' : undefined,
    title: v.title,
    vars: Object.keys(vars).length > 0 ? vars : undefined,
    mention: list(v.mention),
    mentionAll: v['at-all'] ? true : undefined,
    ordered: v.ordered ? true : v.unordered ? false : undefined,
  };

  if (v.lines) {
    if (positionals.length > 0) throw usage('--lines reads the messages from stdin; give no TEXT');
    const concurrency = v.concurrency === undefined ? 4 : Number(v.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32)
      throw usage('--concurrency is 1-32');
    return bulk(ctx, base, v['idempotency-key'], concurrency);
  }

  let text = positionals.join(' ');
  // stdin only when asked for with "-": waiting on a stdin nobody writes to would hang a script.
  if (text === '-') text = (await readAll(ctx.io.stdin)).toString('utf8');
  text = text.replace(/\r?\n$/, '');
  if (text.trim() === '') throw usage('nothing to send: give TEXT, or "-" to read stdin');
  const hub = await ctx.hub();
  const r = await hub.sendMessage({ ...base, text, idempotencyKey: v['idempotency-key'] }, ctx.actor);
  ctx.out.result(r, () => describe(r));
  return EXIT.ok;
}

function describe(r: SendResult): string {
  const head = r.duplicate
    ? `already accepted (same idempotency key): ${r.messageId}`
    : `queued ${r.messageId}: ${r.deliveries.length} deliver${r.deliveries.length === 1 ? 'y' : 'ies'}`;
  const lines = r.deliveries.map(
    (d) =>
      `  ${d.id}  ${d.status.padEnd(9)} ${d.channel.padEnd(6)} → ${d.target}${d.part ? ` (part ${d.part.index}/${d.part.count})` : ''}`,
  );
  return [head, ...lines].join('\n');
}

async function bulk(
  ctx: CliContext,
  base: Omit<SendMessageInput, 'text'>,
  key: string | undefined,
  concurrency: number,
): Promise<number> {
  const raw = (await readAll(ctx.io.stdin)).toString('utf8');
  const lines = raw
    .split(/\r?\n/)
    .map((text, i) => ({ text, line: i + 1 }))
    .filter((l) => l.text.trim() !== '');
  if (lines.length === 0) throw usage('--lines: stdin had no non-empty line');
  const hub = await ctx.hub();
  const bar = new ProgressBar(ctx.io.stderr, { total: lines.length, label: 'sending' });
  const results: Array<{ line: number; messageId?: string; duplicate?: boolean; error?: string }> = [];
  let next = 0;
  let fatal: unknown;
  const worker = async () => {
    while (next < lines.length && fatal === undefined) {
      const item = lines[next++]!;
      try {
        const r = await hub.sendMessage(
          { ...base, text: item.text, idempotencyKey: key ? `${key}:${item.line}` : undefined },
          ctx.actor,
        );
        results.push({ line: item.line, messageId: r.messageId, duplicate: r.duplicate });
      } catch (e) {
        // A refused line is reported and the batch goes on; an unreachable hub or a bad token stops it.
        const status = (e as { status?: number }).status;
        if (status === undefined || status === 401 || status === 403) fatal = e;
        results.push({ line: item.line, error: (e as Error).message });
      }
      bar.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, lines.length) }, worker));
  bar.finish();
  if (fatal !== undefined) throw fatal;
  results.sort((a, b) => a.line - b.line);
  const failed = results.filter((r) => r.error !== undefined);
  const summary = {
    total: lines.length,
    queued: results.length - failed.length,
    failed: failed.length,
    results,
  };
  ctx.out.result(summary, () =>
    [
      `queued ${summary.queued} of ${summary.total} message${summary.total === 1 ? '' : 's'}${failed.length ? `, ${failed.length} refused:` : ''}`,
      ...failed.map((f) => `  line ${f.line}: ${f.error}`),
    ].join('\n'),
  );
  return failed.length > 0 ? EXIT.failure : EXIT.ok;
}

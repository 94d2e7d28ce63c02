/**
 * `dingkit events`: follows the hub's change feed (`GET /v1/events`, server-sent events) in the terminal — the
 * dashboard's event list for people who live in a shell. Reconnects with `Last-Event-ID` when the connection
 * drops, so nothing in the hub's replay buffer is missed. `--json` prints one JSON object per line (NDJSON).
 */

import type { ZonedTime } from '../hub/zoned-time.js';
import { EVENT_NAMES, type HubEventName, isEventName } from '../observe/event-map.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { oneLine } from './terminal-text.js';

export const eventsHelp = `Usage: dingkit events [--replay] [--type TYPE[,TYPE]] [--count N]

Follows the hub's live change feed until Ctrl-C (needs a running hub).

  --replay        start with the events still in the hub's buffer (the last 1,000)
  --type TYPE     only events of these types; "task.*" stands for every type that starts with "task."
  --count N       exit after N events (scripts)
  --json          one JSON object per line: {"id","type","at",...data}

Types: ${EVENT_NAMES.join(', ')}`;

/**
 * The event types a `--type` list selects. Each entry is a type, or a prefix ending in `*` (or in `.`, as the
 * option once took `task.`); one that selects no known type is a usage error naming the known ones (a typo would
 * otherwise wait forever for nothing).
 */
export function selectTypes(list: string): Set<HubEventName> {
  const out = new Set<HubEventName>();
  for (const entry of list.split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    const matched = entry.endsWith('*')
      ? EVENT_NAMES.filter((n) => n.startsWith(entry.slice(0, -1)))
      : entry.endsWith('.')
        ? EVENT_NAMES.filter((n) => n.startsWith(entry))
        : EVENT_NAMES.filter((n) => n === entry);
    if (matched.length === 0)
      throw usage(`unknown event type "${oneLine(entry)}"; known: ${EVENT_NAMES.join(', ')}`);
    for (const n of matched) out.add(n);
  }
  if (out.size === 0) throw usage(`--type needs at least one of: ${EVENT_NAMES.join(', ')}`);
  return out;
}

interface SseEvent {
  id: number;
  type: string;
  data: Record<string, unknown>;
}

/** Splits an SSE byte stream into events (comments and retry lines are skipped). */
async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let cut = buf.indexOf('\n\n');
    while (cut >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      cut = buf.indexOf('\n\n');
      let id = 0;
      let type = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = Number(line.slice(4));
        else if (line.startsWith('event: ')) type = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length === 0) continue;
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(data.join('\n')) as Record<string, unknown>;
      } catch {
        parsed = { raw: data.join('\n') };
      }
      yield { id, type, data: parsed };
    }
  }
}

export async function eventsVerb(
  args: string[],
  ctx: CliContext,
  o: { signal?: AbortSignal } = {},
): Promise<number> {
  const { values: v } = parse(
    args,
    { replay: { type: 'boolean' }, type: { type: 'string' }, count: { type: 'string' } },
    false,
  );
  const count = v.count === undefined ? undefined : Number(v.count);
  if (count !== undefined && (!Number.isInteger(count) || count < 1))
    throw usage('--count is a positive number');
  const types = v.type === undefined ? undefined : selectTypes(v.type);
  const base = ctx.hubUrl().replace(/\/+$/, '').replace(/\/v1$/, '');
  const token = ctx.token;
  const stop = new AbortController();
  // Asked of the hub once its stream has answered (so it is running: no standalone hub is started for this).
  let zone: ZonedTime | undefined;
  o.signal?.addEventListener('abort', () => stop.abort());
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let last: number | undefined = v.replay ? 0 : undefined;
  let shown = 0;
  let failures = 0;
  try {
    while (!stop.signal.aborted) {
      let res: Response;
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (token) headers['authorization'] = `Bearer ${token}`;
        if (last !== undefined) headers['last-event-id'] = String(last);
        res = await fetch(`${base}/v1/events`, { headers, signal: stop.signal });
      } catch (e) {
        if (stop.signal.aborted) break;
        if (++failures >= 5) {
          throw new CliError(
            EXIT.unavailable,
            `no hub answered at ${base} (${(e as Error).message})`,
            'unavailable',
          );
        }
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new CliError(
          EXIT.auth,
          'the API token was refused (set DINGKIT_TOKEN; read scope is enough)',
          'unauthorized',
        );
      }
      if (!res.ok || !res.body)
        throw new CliError(EXIT.failure, `the hub answered HTTP ${res.status}`, 'http');
      failures = 0;
      try {
        for await (const e of readSse(res.body)) {
          last = e.id || last;
          if (types && !(isEventName(e.type) && types.has(e.type))) continue;
          if (ctx.out.json) ctx.io.stdout.write(`${JSON.stringify({ id: e.id, type: e.type, ...e.data })}\n`);
          else {
            zone ??= await ctx.zone();
            ctx.io.stdout.write(`${line(e, zone)}\n`);
          }
          if (count !== undefined && ++shown >= count) {
            stop.abort();
            break;
          }
        }
      } catch {
        // The connection dropped: reconnect with Last-Event-ID below.
      }
      if (!stop.signal.aborted) await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return EXIT.ok;
}

/**
 * One event per line; every field escaped (terminal-text.ts), as it may carry a nick or a title. The time is the
 * hub's zone's (ctx.zone()), marked.
 */
function line(e: SseEvent, zone: ZonedTime): string {
  const at = typeof e.data['at'] === 'number' ? zone.clock(e.data['at']) : '--:--:--';
  const fields = Object.entries(e.data)
    .filter(([k]) => k !== 'at')
    .map(([k, val]) => `${k}=${typeof val === 'object' ? JSON.stringify(val) : String(val)}`)
    .join(' ');
  return oneLine(`${at}  ${e.type.padEnd(16)} ${fields}`);
}

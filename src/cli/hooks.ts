/**
 * `dingkit hooks list|test`: the hook routes as an operator sees them, and a sample payload posted through a
 * route's real door (docs/gateways.md "The CLI").
 *
 * `test` is a sender, not a shortcut: it builds the kind's sample (`HOOK_KINDS[kind].samples`, so a kind added to
 * the registry works here unchanged), signs or authenticates it with the route's secret read from the config
 * (bearer, basic, token header, or the HMAC over the exact bytes it sends), and POSTs it over HTTP to the running
 * hub. The secret goes into request headers only: no line printed and no error carries it. What the payload
 * became (items, their messages and deliveries) is read back through the API with the read token, if there is one.
 */

import { setTimeout as delay } from 'node:timers/promises';
import { signHook } from '../hub/gateways/auth.js';
import type { HookRoute } from '../hub/gateways/config.js';
import { HOOK_KINDS } from '../hub/gateways/kinds.js';
import type { HookRequestView, HookRouteView } from '../hub/gateways/overview.js';
import type { Delivery } from '../hub/service.js';
import type { ZonedTime } from '../hub/zoned-time.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { HubApiError, HubUnreachableError, RemoteHub } from './remote-hub.js';

export const hooksHelp = `Usage: dingkit hooks list [--recent N]
       dingkit hooks test KIND [--route NAME] [--sample NAME] [--wait SECONDS]

list: every hook route (gateways.routes): its kind, its auth type (never the secret), its rules, the URL to paste
into the sender (the hub's publicUrl + /hooks/NAME), and its last N accepted deliveries (default 5): when, what
became of them (sent, pending, coalesced, failed, unrouted), how many items, and a one-line summary.

test: posts a sample payload of KIND (${Object.keys(HOOK_KINDS).join(', ')}) to a running hub through the route's
real door, with the route's credentials from the config (bearer, basic, token header or HMAC signature), then
shows the hub's answer and what it became: items, messages, deliveries (needs a read token, DINGKIT_TOKEN).
  --route NAME     the route to post to (default: the first route of KIND in the config)
  --sample NAME    which sample of KIND (default: its first; an unknown name lists them)
  --wait SECONDS   how long to wait for the items to leave 'pending' (default 10; 0: do not wait)`;

export async function hooksVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list' || sub === 'ls') return list(rest, ctx);
  if (sub === 'test') return test(rest, ctx);
  throw usage(
    sub ? `unknown hooks command "${sub.slice(0, 20)}" (list, test)` : 'hooks needs a command: list, test',
  );
}

async function list(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(args, { recent: { type: 'string' } }, false);
  const recent = v.recent === undefined ? 5 : Number(v.recent);
  if (!Number.isInteger(recent) || recent < 0 || recent > 50) throw usage('--recent is 0-50');
  const hub = await ctx.hub();
  const routes = (await hub.hookRoutes?.list(recent)) ?? [];
  const zone = await ctx.zone();
  ctx.out.result({ routes }, () =>
    routes.length === 0
      ? 'no hook routes (gateways.routes in the config; docs/gateways.md)'
      : routes.map((r) => routeText(r, zone)).join('\n\n'),
  );
  return EXIT.ok;
}

function authText(a: HookRouteView['auth']): string {
  return a.header ? `${a.type} (${a.header})` : a.type;
}

export function routeText(r: HookRouteView, zone: ZonedTime): string {
  const lines = [
    `${r.name}  ${r.kind}  auth ${authText(r.auth)}`,
    `  url     ${r.url}`,
    ...r.rules.map((rule, i) => `  ${i === 0 ? 'rules ' : '      '}  ${rule}`),
    `  else    ${r.fallback ?? 'not sent (counted as unrouted)'}`,
  ];
  if (r.recent.length === 0) lines.push('  recent  none yet');
  r.recent.forEach((q, i) => {
    lines.push(`  ${i === 0 ? 'recent' : '      '}  ${requestLine(q, zone)}`);
  });
  return lines.join('\n');
}

function requestLine(q: HookRequestView, zone: ZonedTime): string {
  const msgs = q.messageIds.length > 0 ? `  → ${q.messageIds.join(', ')}` : '';
  return `${zone.formatIso(q.receivedAt)}  ${q.result}  ${q.items} item${q.items === 1 ? '' : 's'}  ${q.summary}${msgs}`;
}

/** The headers a sender of this route adds: its credentials (or the signature over `raw`). */
export function authHeaders(route: HookRoute, raw: Buffer, nowMs: number): Record<string, string> {
  const a = route.auth;
  switch (a.type) {
    case 'bearer':
      return { authorization: `Bearer ${a.token}` };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`, 'utf8').toString('base64')}`,
      };
    case 'token':
      return { [a.header]: a.token };
    case 'hmac':
      return signHook(a, raw, a.timestampHeader !== undefined ? Math.floor(nowMs / 1000) : undefined);
  }
}

interface TestResult {
  route: string;
  kind: string;
  sample: string;
  url: string;
  status: number;
  answer: unknown;
  became?: HookRequestView | undefined;
  messages?: Array<{ id: string; deliveries: Array<Pick<Delivery, 'id' | 'status' | 'target' | 'channel'>> }>;
  note?: string;
}

async function test(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, {
    route: { type: 'string' },
    sample: { type: 'string' },
    wait: { type: 'string' },
  });
  const kinds = Object.keys(HOOK_KINDS);
  if (positionals.length !== 1) throw usage(`give one payload kind: ${kinds.join(', ')}`);
  const kindName = positionals[0]!;
  if (!Object.hasOwn(HOOK_KINDS, kindName)) {
    throw usage(`unknown payload kind "${kindName.slice(0, 30)}" (kinds: ${kinds.join(', ')})`);
  }
  const kind = HOOK_KINDS[kindName as HookRoute['kind']];
  const waitS = v.wait === undefined ? 10 : Number(v.wait);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 600) throw usage('--wait is 0-600 seconds');
  const sample = v.sample === undefined ? kind.samples[0] : kind.samples.find((s) => s.name === v.sample);
  if (!sample) {
    throw usage(
      `${kindName} has no sample "${(v.sample ?? '').slice(0, 40)}" (samples: ${kind.samples.map((s) => s.name).join(', ')})`,
    );
  }
  const routes = ctx.config().gateways?.routes ?? [];
  const route =
    v.route === undefined ? routes.find((r) => r.kind === kindName) : routes.find((r) => r.name === v.route);
  if (!route) {
    throw new CliError(
      EXIT.notFound,
      v.route === undefined
        ? `no hook route of kind ${kindName} in the config (gateways.routes; routes: ${routes.map((r) => r.name).join(', ') || 'none'})`
        : `no hook route "${v.route.slice(0, 64)}" in the config (routes: ${routes.map((r) => r.name).join(', ') || 'none'})`,
      'not_found',
    );
  }
  if (route.kind !== kindName) {
    throw usage(`route ${route.name} takes ${route.kind} payloads, not ${kindName}`);
  }

  const now = Date.now();
  const body = sample.body(1, new Date(now));
  const raw = Buffer.from(JSON.stringify(body), 'utf8');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(sample.headers ?? {}),
    ...(sample.headersFor?.(1, new Date(now)) ?? {}),
    ...authHeaders(route, raw, now),
  };
  const base = ctx.hubUrl().replace(/\/+$/, '').replace(/\/v1$/, '');
  const url = `${base}/hooks/${route.name}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    const c = (e as { cause?: { code?: string } }).cause;
    throw new HubUnreachableError(
      `no hub answered at ${base} (${c?.code ?? (e as Error).name}): start one with "dingkit serve" or set DINGKIT_URL`,
    );
  }
  const text = await res.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = text.slice(0, 500);
  }
  const out: TestResult = {
    route: route.name,
    kind: kindName,
    sample: sample.name,
    url,
    status: res.status,
    answer,
  };
  if (res.status === 200 || res.status === 202) {
    const header = (n: string) => headers[n.toLowerCase()];
    const parsed = kind.parse({ body, raw, header, route });
    if (parsed.ok) await followUp(out, ctx, base, route.name, parsed.parsed.dedupKey, waitS * 1000);
  }
  const zone = ctx.localZone();
  ctx.out.result(out, () => testText(out, zone));
  return res.status === 200 || res.status === 202 ? EXIT.ok : EXIT.failure;
}

/** Reads back what the accepted payload became, waiting up to `waitMs` for its items to leave `pending`. */
async function followUp(
  out: TestResult,
  ctx: CliContext,
  base: string,
  route: string,
  key: string,
  waitMs: number,
): Promise<void> {
  const hub = new RemoteHub(base, ctx.token);
  const until = Date.now() + waitMs;
  try {
    for (;;) {
      out.became = await hub.hookRoutes.request(route, key);
      if (out.became && out.became.result !== 'pending') break;
      if (Date.now() >= until) break;
      await delay(200);
    }
    const messages: NonNullable<TestResult['messages']> = [];
    for (const id of out.became?.messageIds ?? []) {
      const m = await hub.getMessage(id);
      messages.push({
        id,
        deliveries: (m?.deliveries ?? []).map((d) => ({
          id: d.id,
          status: d.status,
          target: d.target,
          channel: d.channel,
        })),
      });
    }
    out.messages = messages;
    if (out.became?.result === 'pending') {
      out.note =
        'still pending: a gate (in flight, budget) or the flap window holds it (a resolved alert waits gateways.flapWindowMs)';
    }
  } catch (e) {
    if (!(e instanceof HubApiError) || (e.status !== 401 && e.status !== 403)) throw e;
    out.note = 'set DINGKIT_TOKEN (read scope) to see what it became';
  }
}

function testText(r: TestResult, zone: ZonedTime): string {
  const lines = [
    `POST ${r.url}  (${r.kind} sample "${r.sample}")`,
    `→ ${r.status} ${typeof r.answer === 'string' ? r.answer : JSON.stringify(r.answer)}`,
  ];
  if (r.became) {
    lines.push(`became  ${requestLine(r.became, zone)}`);
    for (const m of r.messages ?? []) {
      lines.push(
        `  message ${m.id}: ${
          m.deliveries.map((d) => `delivery ${d.id} ${d.status} → ${d.target} (${d.channel})`).join('; ') ||
          'no deliveries'
        }`,
      );
    }
  }
  if (r.note) lines.push(r.note);
  return lines.join('\n');
}

/**
 * `dingkit doctor`: checks what can be checked without bothering anyone in DingTalk.
 *
 * - the config parses (exit 3 otherwise), the store opens, a hub answers (or not);
 * - per app: an access token is fetched (credentials, IP allowlist) and one users-API call is made for a
 *   configured person (the contacts permission) — both read-only;
 * - per custom robot: the webhook and secret have the documented shapes (docs/dingtalk.md §2.1, §2.2), at least one security
 *   setting is configured, and the local clock is within the 1-hour sign window of DingTalk's (from the `Date`
 *   header of the token call). No message is ever sent: a keyword-less or unsigned test message could post to
 *   the group if the config is out of date. With `--probe-robots` each webhook receives a body without
 *   `msgtype` — nothing that can render — which tells whether the token exists and the robot is enabled
 *   (400101/300005, 400102). Whether DingTalk checks the signature before the body is unverified (§12), so a
 *   signature problem is only reported when the answer says so.
 */

import { parseWebhookUrl, type WebhookTarget } from '../api/robot/webhook-url.js';
import { isDingTalkError, isPlatformError } from '../core/errors.js';
import { type HubConfig, usesEmulator } from '../hub/config.js';
import type { HealthReport } from '../hub/service.js';
import { type CliContext, parse } from './context.js';
import { EXIT } from './exit-codes.js';
import { RemoteHub } from './remote-hub.js';
import { configRedactor } from './secrets.js';

export const doctorHelp = `Usage: dingkit doctor [--probe-robots] [--timeout MS]

Checks the config, the store, a running hub, each app's credentials (token fetch + one read-only users call)
and each custom robot's settings. It never posts a message.

  --probe-robots  also call each robot webhook with an empty body (no msgtype, so nothing can be posted) to check
                  that its token exists and the robot is enabled
  --timeout MS    per DingTalk call (default 10000)`;

type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

interface Check {
  check: string;
  status: CheckStatus;
  detail: string;
}

const MARK: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✘', skip: '-' };

export async function doctorVerb(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(
    args,
    { 'probe-robots': { type: 'boolean' }, timeout: { type: 'string' } },
    false,
  );
  const timeoutMs = v.timeout === undefined ? 10_000 : Number(v.timeout);
  const checks: Check[] = [];
  const add = (check: string, status: CheckStatus, detail: string) => checks.push({ check, status, detail });

  const config = ctx.config();
  const redactor = configRedactor(config);
  add(
    'config',
    'ok',
    `${Object.keys(config.apps).length} app(s), ${Object.keys(config.robots).length} robot(s), ${Object.keys(config.groups).length} group(s), ${Object.keys(config.people).length} people`,
  );
  const emulated = usesEmulator(config);
  if (emulated)
    add(
      'mode',
      'ok',
      'no DingTalk credentials: "dingkit serve" runs against the built-in emulator (demo mode)',
    );

  checkPublicUrl(config, add);
  await checkStore(config, add);
  await checkHub(ctx, add);

  const env = ctx.io.env;
  const oapiBase = config.dingtalk.oapiBase ?? env['DINGTALK_OAPI_BASE'] ?? 'https://oapi.dingtalk.com';
  let serverDate: number | undefined;
  for (const [name, app] of Object.entries(config.apps)) {
    serverDate ??= await checkApp(name, app, config, env, timeoutMs, add);
  }
  for (const [name, robot] of Object.entries(config.robots)) {
    const seen = await checkRobot(name, robot, oapiBase, v['probe-robots'] === true, timeoutMs, add);
    serverDate ??= seen;
  }
  if (Object.keys(config.robots).some((n) => config.robots[n]?.secret)) {
    // A signed robot needs this clock within the hour of DingTalk's (§2.3). With no app to ask and no probe, one
    // HEAD to the oapi host gives DingTalk's clock (its Date header) and sends nothing else.
    if (serverDate === undefined) {
      try {
        serverDate = await remoteDate(oapiBase, timeoutMs);
      } catch (e) {
        add(
          'clock',
          'warn',
          `could not read DingTalk's clock at ${new URL(oapiBase).host}: ${networkCause(e, timeoutMs)}`,
        );
      }
    }
    if (serverDate !== undefined) {
      const skew = Math.abs(Date.now() - serverDate);
      add(
        'clock',
        skew > 3_600_000 ? 'fail' : skew > 300_000 ? 'warn' : 'ok',
        `local clock is ${Math.round(skew / 1000)} s from DingTalk's; signed webhook calls are accepted within 1 hour (§2.3)`,
      );
    }
  }

  const safe = checks.map((c) => ({ ...c, detail: redactor.redact(c.detail) }));
  const failed = safe.filter((c) => c.status === 'fail').length;
  const warned = safe.filter((c) => c.status === 'warn').length;
  ctx.out.result({ ok: failed === 0, checks: safe }, () =>
    [
      ...safe.map((c) => `${MARK[c.status]} ${c.check.padEnd(22)} ${c.detail}`),
      '',
      failed === 0
        ? `all good${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`
        : `${failed} check(s) failed`,
    ].join('\n'),
  );
  return failed === 0 ? EXIT.ok : EXIT.failure;
}

type Add = (check: string, status: CheckStatus, detail: string) => void;

/**
 * The people's web app and the Todo links need the address DingTalk and phones reach the hub at, over https in
 * production (docs/dingtalk.md §13.1): without it, links point at the address the hub listens on.
 */
function checkPublicUrl(config: HubConfig, add: Add): void {
  const url = config.publicUrl;
  if (url === undefined) {
    add(
      'publicUrl',
      'warn',
      "not set: Todo links and the people's web app point at the hub's listen address, which DingTalk cannot reach",
    );
  } else if (!url.toLowerCase().startsWith('https://')) {
    add(
      'publicUrl',
      'warn',
      `${url} is not https: DingTalk's clients expect https pages, and cookies are not Secure`,
    );
  } else {
    add('publicUrl', 'ok', `homepage for DingTalk's console: ${url}/app/`);
  }
}

async function checkStore(config: HubConfig, add: Add): Promise<void> {
  const { describeUrl, openStore } = await import('../store/open-store.js');
  const where = describeUrl(config.database.url);
  try {
    const store = await openStore({
      url: config.database.url,
      ...(config.database.schema ? { schema: config.database.schema } : {}),
      migrate: false,
    });
    try {
      const pending = await store.migrate();
      add(
        'store',
        'ok',
        `${store.dialect} at ${where}${pending.length ? ` (applied ${pending.join(', ')})` : ''}`,
      );
    } finally {
      await store.close();
    }
  } catch (e) {
    add('store', 'fail', `${where}: ${(e as Error).message}`);
  }
}

/** "stream connected, http ready": each receiver of `inbound.mode`; an older hub reports only its stream. */
function receiving(h: Partial<HealthReport>): string {
  if (!h.receivers?.length) return `stream ${h.stream}`;
  return h.receivers.map((r) => `${r.name} ${r.state}`).join(', ');
}

async function checkHub(ctx: CliContext, add: Add): Promise<void> {
  const url = ctx.hubUrl();
  try {
    // The details (version, queue, store error) come with a read token; without one the hub says only ok / not ok.
    const h: Partial<HealthReport> = await new RemoteHub(url, ctx.token, { timeoutMs: 2_000 }).health();
    const details =
      h.version === undefined
        ? h.ok
          ? 'answers ok (set DINGKIT_TOKEN for details)'
          : 'answers not ok (set DINGKIT_TOKEN for details)'
        : `v${h.version}, ${receiving(h)}, queue ${h.queue?.queued} queued / ${h.queue?.parked} parked / ${h.queue?.dead} dead${h.emulator ? ', on the emulator' : ''}${h.storeError ? `, store: ${h.storeError}` : ''}`;
    add('hub', h.ok ? 'ok' : 'warn', `${url}: ${details}`);
  } catch {
    add('hub', 'skip', `no hub running at ${url} (start one with: dingkit serve)`);
  }
}

/** Fetches a token and makes one users call; returns DingTalk's clock (Date header) when it answered. */
async function checkApp(
  name: string,
  app: HubConfig['apps'][string],
  config: HubConfig,
  env: Record<string, string | undefined>,
  timeoutMs: number,
  add: Add,
): Promise<number | undefined> {
  let serverDate: number | undefined;
  const { DingTalkCore } = await import('../core/client-core.js');
  const { Users } = await import('../api/users/users.js');
  const core = new DingTalkCore({
    appKey: app.appKey,
    appSecret: app.appSecret,
    oapiBase: config.dingtalk.oapiBase,
    apiBase: config.dingtalk.apiBase,
    env,
    timeoutMs,
    retry: false,
    rateLimit: false,
    middleware: [
      async (req, next) => {
        const res = await next(req);
        const date = res.headers['date'];
        const t = typeof date === 'string' ? Date.parse(date) : Number.NaN;
        if (!Number.isNaN(t)) serverDate ??= t;
        return res;
      },
    ],
  });
  try {
    try {
      await core.tokens!.get();
      add(`app ${name}: token`, 'ok', 'credentials accepted, access token obtained');
    } catch (e) {
      add(`app ${name}: token`, 'fail', explain(e));
      return serverDate;
    }
    if (app.agentId === undefined) {
      add(
        `app ${name}: agentId`,
        'warn',
        'no agentId: work notifications (and file shares to people) need it',
      );
    }
    const person = Object.entries(config.people).find(([, p]) => p.userId ?? p.mobile);
    if (!person) {
      add(`app ${name}: users API`, 'skip', 'no person with a userId or mobile in the config to look up');
      return serverDate;
    }
    const [who, p] = person;
    const users = new Users(core.context);
    try {
      if (p.userId) await users.get(p.userId);
      else await users.userIdByMobile(p.mobile!);
      add(`app ${name}: users API`, 'ok', `looked up ${who} (read-only)`);
    } catch (e) {
      const code = isPlatformError(e) ? (e.errcode ?? e.subCode) : undefined;
      const notFound = code === 60121 || code === 40104 || code === 33012;
      add(
        `app ${name}: users API`,
        notFound ? 'warn' : 'fail',
        notFound ? `${who} is not in the org: ${explain(e)}` : explain(e),
      );
    }
    return serverDate;
  } finally {
    await core.close();
  }
}

const HEX64 = /^[0-9a-f]{64}$/i;

/**
 * Checks one robot's config and, with `probe`, its webhook. Returns DingTalk's clock (the probe answer's Date
 * header) when it probed.
 */
async function checkRobot(
  name: string,
  robot: HubConfig['robots'][string],
  oapiBase: string,
  probe: boolean,
  timeoutMs: number,
  add: Add,
): Promise<number | undefined> {
  const label = `robot ${name}`;
  let target: WebhookTarget;
  try {
    target = parseWebhookUrl(robot.webhook, 'doctor');
  } catch (e) {
    // The library's refusal names what is wrong and never the token (docs/dingtalk.md §2.1).
    add(`${label}: webhook`, 'fail', `${isDingTalkError(e) ? e.message : 'unreadable'} (§2.1)`);
    return undefined;
  }
  const token = target.accessToken;
  // DingTalk's own webhook URL, or a bare token, follows the configured oapi base, exactly as sending does
  // (api/robot/custom-robot.ts): a config pointed at the emulator probes the emulator, never the real DingTalk.
  const url =
    target.onOapi || !target.url
      ? new URL(`${oapiBase.replace(/\/+$/, '')}/robot/send`)
      : new URL(target.url.toString());
  url.searchParams.set('access_token', token);
  if (!HEX64.test(token))
    add(`${label}: webhook`, 'warn', 'the access_token is not the usual 64 hex characters (§2)');
  else if (!/\/robot\/send$/.test(url.pathname))
    add(`${label}: webhook`, 'warn', `unexpected path ${url.pathname} (expected /robot/send)`);
  else add(`${label}: webhook`, 'ok', `${url.host}/robot/send with a 64-hex token`);

  const kinds: string[] = [];
  if (robot.secret) {
    if (!/^SEC[0-9a-f]{20,}$/i.test(robot.secret))
      add(`${label}: sign`, 'warn', 'the secret does not look like SEC + hex (§2.2)');
    kinds.push('sign');
  }
  if (robot.keywords?.length) kinds.push(`keywords (${robot.keywords.length})`);
  add(
    `${label}: security`,
    kinds.length ? 'ok' : 'warn',
    kinds.length
      ? `${kinds.join(' + ')} configured${robot.keywords?.length ? '; every message must contain a keyword' : ''}`
      : 'no sign secret or keywords configured: unless the robot uses an IP allowlist, DingTalk refuses every message (310000, §2.2)',
  );

  if (!probe) return undefined;
  let seen: number | undefined;
  if (robot.secret) {
    const { signWebhook } = await import('../api/robot/webhook-sign.js');
    const s = signWebhook(robot.secret, Date.now());
    url.searchParams.set('timestamp', s.timestamp);
    url.searchParams.set('sign', s.sign);
  }
  try {
    // Without a msgtype DingTalk has nothing to render, so this cannot post in any order of its checks.
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const date = Date.parse(res.headers.get('date') ?? '');
    if (!Number.isNaN(date)) seen = date;
    const body = (await res.json().catch(() => ({}))) as { errcode?: number; errmsg?: string };
    const code = body.errcode;
    const msg = String(body.errmsg ?? '').slice(0, 120);
    if (code === 400101 || code === 300005 || code === 300001 || code === 400106) {
      add(`${label}: probe`, 'fail', `DingTalk does not know this robot token (errcode ${code})`);
    } else if (code === 400102) add(`${label}: probe`, 'fail', 'the robot is disabled (400102)');
    else if (code === 400013) add(`${label}: probe`, 'fail', 'the group has been dissolved (400013)');
    else if (code === 310000 && /sign|timestamp/i.test(msg))
      add(`${label}: probe`, 'fail', `signature refused: ${msg}`);
    else if (code === 310000 && /ip/i.test(msg))
      add(`${label}: probe`, 'fail', `this machine is not in the robot's IP allowlist: ${msg}`);
    else if (code === 0)
      add(`${label}: probe`, 'warn', 'DingTalk accepted an empty body (unexpected); check the group');
    else {
      add(
        `${label}: probe`,
        'ok',
        `token known and robot enabled (answered errcode ${code ?? '?'} to the empty body; the signature itself is only checked with a real message)`,
      );
    }
  } catch (e) {
    add(`${label}: probe`, 'fail', `webhook unreachable at ${url.host}: ${networkCause(e, timeoutMs)}`);
  }
  return seen;
}

/** The Date header of one HEAD to `base` (DingTalk's clock); throws what the network said. */
async function remoteDate(base: string, timeoutMs: number): Promise<number | undefined> {
  const res = await fetch(new URL(base), { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
  const t = Date.parse(res.headers.get('date') ?? '');
  return Number.isNaN(t) ? undefined : t;
}

/**
 * What the network said, instead of fetch's "fetch failed": the system's code and words (ENOTFOUND for a name that
 * does not resolve, ECONNREFUSED, ECONNRESET, a certificate's code), or a timeout.
 */
export function networkCause(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: unknown; message?: unknown } } | null;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  const words = typeof err?.cause?.message === 'string' ? err.cause.message : undefined;
  if (code && words) return words.includes(code) ? words : `${code}: ${words}`;
  if (code || words) return (code ?? words)!;
  return err?.message ?? String(e);
}

function explain(e: unknown): string {
  if (isPlatformError(e)) {
    const code = e.errcode ?? e.platformCode;
    const hints: Record<string, string> = {
      '40089': 'appKey/appSecret rejected',
      '40096': 'appKey/appSecret rejected',
      '40001': 'appSecret rejected',
      invalidClientIdOrSecret: 'appKey/appSecret rejected',
      '60020': "this machine's IP is not in the app's allowlist",
      'Forbidden.AccessDenied.IpNotInWhiteList': "this machine's IP is not in the app's allowlist",
      '60011': 'the app lacks this API permission (grant it in the developer console)',
      'Forbidden.AccessDenied.AccessTokenPermissionDenied': 'the app lacks this API permission',
    };
    const sub = e.subCode ? ` / ${e.subCode}` : '';
    return `${hints[String(code)] ?? e.message} (${code ?? e.code}${sub})`;
  }
  if (isDingTalkError(e)) return `${e.message} (${e.code})`;
  return (e as Error)?.message ?? String(e);
}

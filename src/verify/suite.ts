/**
 * The contract suite (docs/verify.md): the read-only checks, then, with writes allowed, the ones that send to the
 * test group and the operator; then everything created is removed, newest first, whatever failed before; then
 * each fact of the registry gets its verdict against the emulator's settings. The order of effects is the design:
 * a created item is recorded before the check goes on, so a check that fails halfway still has its item removed.
 */

import { randomBytes } from 'node:crypto';
import { DingTalk } from '../client.js';
import { ConfigError, isDingTalkError, isPlatformError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import type { RetryOptions } from '../core/retry.js';
import type { HubConfig } from '../hub/config.js';
import { unknownRoute } from './checks-api.js';
import { appRobotGroup, downloadCode, otoCap } from './checks-app-robot.js';
import { authCode, token } from './checks-auth.js';
import { card } from './checks-card.js';
import { customRobot, robotUnknownToken } from './checks-custom-robot.js';
import { media, mediaBadExtension } from './checks-media.js';
import { notice } from './checks-notice.js';
import { stream } from './checks-stream.js';
import { todo } from './checks-todo.js';
import { lookupMe } from './checks-users.js';
import { agrees, expectedValue, FACTS, type FactValue } from './facts.js';
import { type EmulatorSettings, resolveSettings } from './settings.js';
import type {
  CheckResult,
  CheckStatus,
  FactResult,
  Leftover,
  Recorder,
  VerifyCheck,
  VerifyEnv,
  VerifyGroup,
  VerifyMe,
  VerifyReport,
} from './types.js';

/** Read-only checks first; `users-lookup` before the checks that need the operator's ids. */
const READ_CHECKS: readonly VerifyCheck[] = [
  token,
  robotUnknownToken,
  authCode,
  unknownRoute,
  downloadCode,
  lookupMe,
  stream,
];

/** Checks that send or create (only with writes allowed); each records what it created and how to remove it. */
const WRITE_CHECKS: readonly VerifyCheck[] = [
  customRobot,
  appRobotGroup,
  card,
  otoCap,
  notice,
  todo,
  media,
  mediaBadExtension,
];

export const CHECKS: readonly VerifyCheck[] = [...READ_CHECKS, ...WRITE_CHECKS];

export interface VerifyOptions {
  config: HubConfig;
  /** A group alias of the config (`--group`). */
  group?: string | undefined;
  /** The operator: a person of the config (key, name or userId) or a mobile (`--me`). */
  me?: string | undefined;
  /** An app of the config (`--app`). @default the group's app, else `defaultApp`, else the first */
  app?: string | undefined;
  /** The settings the facts are compared with. @default the emulator's defaults */
  settings?: EmulatorSettings | undefined;
  env?: Record<string, string | undefined>;
  /** Per DingTalk call. @default 10_000 */
  timeoutMs?: number | undefined;
  /** The library's retry policy (tests make it quick). @default the library's */
  retry?: RetryOptions | false | undefined;
  /** @default 8 random hex characters */
  runId?: string | undefined;
  /** Wait this long for the operator to tick the Todo and record the event it pushes. @default 0 (not asked) */
  todoEventWaitMs?: number | undefined;
  /** @default does nothing */
  askOperator?: VerifyEnv['askOperator'] | undefined;
  /** Interrupts the run: the remaining checks are skipped and what was created is removed (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

const MOBILE = /^\+?[0-9][0-9-]{4,19}$/;

/** Reads the config for the run; unknown `--group` / `--me` / `--app` names are ConfigErrors naming the choices. */
export function verifyEnv(o: VerifyOptions): VerifyEnv {
  const c = o.config;
  const env = o.env ?? process.env;
  let group: VerifyGroup | undefined;
  if (o.group !== undefined) {
    const g = c.groups[o.group];
    if (!g)
      throw new ConfigError(
        `--group: no group "${o.group.slice(0, 40)}" in the config (${list(Object.keys(c.groups))})`,
      );
    const r = g.robot ? c.robots[g.robot] : undefined;
    group = {
      alias: o.group,
      openConversationId: g.openConversationId,
      app: g.app !== undefined,
      robot: r && g.robot ? { name: g.robot, ...r } : undefined,
    };
  }
  const appName =
    o.app ?? (o.group ? c.groups[o.group]?.app : undefined) ?? c.defaultApp ?? Object.keys(c.apps)[0];
  const app = appName ? c.apps[appName] : undefined;
  if (o.app !== undefined && !app)
    throw new ConfigError(
      `--app: no app "${o.app.slice(0, 40)}" in the config (${list(Object.keys(c.apps))})`,
    );
  // Resolved before the client exists, so a bad name leaves nothing open.
  const me = o.me === undefined ? undefined : resolveMe(c, o.me);
  const redactor = new Redactor();
  if (app) redactor.add(app.appSecret);
  for (const r of Object.values(c.robots)) {
    redactor.add(r.secret);
    redactor.add(r.webhook);
    redactor.add(/access_token=([^&\s]+)/.exec(r.webhook)?.[1]);
  }
  const dt = new DingTalk({
    ...(app
      ? { appKey: app.appKey, appSecret: app.appSecret, agentId: app.agentId, robotCode: app.robotCode }
      : {}),
    oapiBase: c.dingtalk.oapiBase,
    apiBase: c.dingtalk.apiBase,
    env,
    timeoutMs: o.timeoutMs ?? 10_000,
    ...(o.retry !== undefined ? { retry: o.retry } : {}),
  });
  return {
    dt,
    appName: app ? appName : undefined,
    appKey: app?.appKey,
    appSecret: app?.appSecret,
    agentId: app?.agentId,
    oapiBase: dt.oapiBase,
    apiBase: dt.apiBase,
    group,
    me,
    cardTemplateId: c.tasks.cards.templateId,
    writes: false,
    settings: resolveSettings(o.settings),
    runId: o.runId ?? randomBytes(4).toString('hex'),
    timeoutMs: o.timeoutMs ?? 10_000,
    redactor,
    env,
    todoEventWaitMs: o.todoEventWaitMs ?? 0,
    askOperator: o.askOperator ?? (() => {}),
    signal: o.signal,
  };
}

function resolveMe(c: HubConfig, me: string): VerifyMe {
  const entry =
    Object.entries(c.people).find(([k]) => k === me) ??
    Object.entries(c.people).find(([, p]) => p.name === me || p.userId === me);
  if (entry) {
    const [key, p] = entry;
    return { label: p.name ?? key, mobile: p.mobile, userId: p.userId, unionId: p.unionId };
  }
  if (MOBILE.test(me)) return { label: `mobile …${me.slice(-4)}`, mobile: me };
  throw new ConfigError(`--me: "${me.slice(0, 40)}" is neither a person of the config nor a mobile`);
}

const list = (names: string[]) => (names.length ? `have: ${names.join(', ')}` : 'none configured');

/** What the write checks would send, and to whom (the confirmation shows this list), or why each would not run. */
export function writePlan(env: VerifyEnv): Array<{ check: string; sends?: string; skip?: string }> {
  return WRITE_CHECKS.map((c) => {
    const p = c.plan!(env);
    return 'sends' in p ? { check: c.id, sends: p.sends } : { check: c.id, skip: p.skip };
  });
}

interface Created {
  what: string;
  to: string;
  undo?: () => Promise<void>;
  keep?: string;
}

/** Runs the suite; never throws for a DingTalk failure (each becomes a check result). Closes the client. */
export async function runVerify(env: VerifyEnv): Promise<VerifyReport> {
  const observed = new Map<string, { value: FactValue; how: string }>();
  const missed = new Map<string, string>();
  const created: Created[] = [];
  const rec: Recorder = {
    observe: (id, value, how) => observed.set(id, { value, how }),
    unobserved: (id, why) => missed.set(id, why),
    created: (item) => created.push(item),
  };
  const checks: CheckResult[] = [];
  // runCheck never throws: a failed check is a result, so the removal below always runs.
  for (const check of CHECKS) checks.push(await runCheck(check, env, rec, missed));
  const removed: Array<{ what: string; to: string }> = [];
  const leftovers: Leftover[] = [];
  for (const item of created.reverse()) {
    if (!item.undo) {
      leftovers.push({ what: item.what, to: item.to, reason: item.keep ?? 'cannot be removed' });
      continue;
    }
    try {
      await item.undo();
      removed.push({ what: item.what, to: item.to });
    } catch (e) {
      leftovers.push({ what: item.what, to: item.to, reason: `removal failed: ${reason(e, env)}` });
    }
  }
  await env.dt.close();

  const facts = FACTS.map((f): FactResult => {
    const expected = expectedValue(f, env.settings);
    const base = {
      id: f.id,
      title: f.title,
      doc: f.doc,
      setting: f.setting ?? null,
      emulator: expected ?? null,
    };
    const o = observed.get(f.id);
    if (o) {
      return {
        ...base,
        observed: o.value,
        verdict: agrees(f, expected, o.value) ? 'agrees' : 'differs',
        detail: env.redactor.redact(o.how),
      };
    }
    const why = missed.get(f.id) ?? f.unobservable ?? 'not observed';
    return { ...base, observed: null, verdict: 'not_observed', detail: env.redactor.redact(why) };
  });
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  return {
    runId: env.runId,
    target: { oapiBase: env.oapiBase, apiBase: env.apiBase },
    mode: env.writes ? 'write' : 'read-only',
    checks,
    facts,
    removed,
    leftovers: leftovers.map((l) => ({ ...l, reason: env.redactor.redact(l.reason) })),
    summary: {
      checks: {
        ok: count('ok'),
        failed: count('failed'),
        could_not_run: count('could_not_run'),
        skipped: count('skipped'),
      },
      agrees: facts.filter((f) => f.verdict === 'agrees').length,
      differs: facts.filter((f) => f.verdict === 'differs').length,
      notObserved: facts.filter((f) => f.verdict === 'not_observed').length,
    },
  };
}

async function runCheck(
  check: VerifyCheck,
  env: VerifyEnv,
  rec: Recorder,
  missed: Map<string, string>,
): Promise<CheckResult> {
  const base = { id: check.id, family: check.family, title: check.title };
  const skipped = (detail: string): CheckResult => {
    for (const f of check.facts ?? [])
      if (!missed.has(f)) missed.set(f, `check ${check.id} skipped: ${detail}`);
    return { ...base, status: 'skipped', detail, ms: 0 };
  };
  if (env.signal?.aborted) return skipped('interrupted before it started');
  if (check.plan) {
    const p = check.plan(env);
    if ('skip' in p) return skipped(p.skip);
    if (!env.writes) return skipped('read-only run (writes not confirmed: answer the prompt or pass --yes)');
  } else {
    const why = check.skip?.(env);
    if (why) return skipped(why);
  }
  const started = Date.now();
  try {
    const r = await check.run(env, rec);
    const ms = Date.now() - started;
    if (typeof r === 'string') return { ...base, status: 'ok', detail: env.redactor.redact(r), ms };
    return { ...base, status: 'failed', detail: env.redactor.redact(r.failed), ms };
  } catch (e) {
    const detail = reason(e, env);
    for (const f of check.facts ?? [])
      if (!missed.has(f)) missed.set(f, `check ${check.id} could not run: ${detail}`);
    return { ...base, status: 'could_not_run', detail, ms: Date.now() - started };
  }
}

/** Why a call failed, in one redacted line: DingTalk's code when it answered, else the library's error code. */
function reason(e: unknown, env: VerifyEnv): string {
  let text: string;
  if (isPlatformError(e)) {
    const code = e.errcode ?? e.platformCode;
    text = `${e.message} (${code !== undefined ? `${code}, ` : ''}HTTP ${e.status})`;
  } else if (isDingTalkError(e)) text = `${e.message} (${e.code}, ${e.outcome})`;
  else text = e instanceof Error ? e.message : String(e);
  return env.redactor.redact(text.replace(/\s+/g, ' ').slice(0, 300));
}

/**
 * The facts `dingkit verify` settles: each one the emulator treats as a setting or answers by a guess because
 * nobody could observe DingTalk doing it (docs/dingtalk.md §12, docs/emulator.md "Limits"). Each entry names the
 * emulator setting (or says the behaviour is fixed in the emulator's code), the check that observes it, and, for a
 * fact that cannot be observed safely, why not. The expected value is read from the settings the run compares
 * against (the emulator's defaults unless `--settings FILE`).
 */

import type { ResolvedSettings } from './settings.js';

export type FactValue = number | string;

/** A setting the emulator takes as an option: `limits.<key>` or `todoDoneEventType`. */
export type SettingPath = `limits.${keyof ResolvedSettings['limits']}` | 'todoDoneEventType';

export interface FactDef {
  id: string;
  title: string;
  /** Sections of docs/dingtalk.md. */
  doc: string;
  /** The emulator option; absent: the behaviour is fixed in the emulator's code. */
  setting?: SettingPath;
  /** The emulator's answer when there is no setting. */
  fixed?: FactValue;
  /** The check that observes it. */
  check?: string;
  /** Why it is not observed (no check, or none that is safe against a real org). */
  unobservable?: string;
  /** How close an observation must be to agree (lifetimes in seconds). @default 0 */
  tolerance?: number;
}

export const FACTS: readonly FactDef[] = [
  {
    id: 'token.lifetime',
    title: 'access token lifetime in seconds (expireIn of a fresh token)',
    doc: '§1.2',
    setting: 'limits.tokenTtlSec',
    check: 'token',
    // DingTalk hands out the same token while it is valid; a token another process fetched earlier answers what is
    // left of its life, hence the minute of slack (docs/verify.md).
    tolerance: 60,
  },
  {
    id: 'robot.unknownTokenErrcode',
    title: 'errcode of a custom-robot webhook call with an unknown access_token',
    doc: '§2.6, §12',
    setting: 'limits.unknownRobotErrcode',
    check: 'robot-unknown-token',
  },
  {
    id: 'auth.codeErrcode',
    title: 'errcode of topapi/v2/user/getuserinfo for an unknown 免登 code',
    doc: '§13.2, §12',
    setting: 'limits.authCodeErrcode',
    check: 'auth-code',
  },
  {
    id: 'api.unknownRoute',
    title: 'answer to an unknown /v1.0 path (HTTP status and code)',
    doc: '§0.1, §12',
    fixed: '404 InvalidAction.NotFound',
    check: 'api-unknown-route',
  },
  {
    id: 'robot.unknownDownloadCode',
    title: 'answer to robot/messageFiles/download with an unknown downloadCode',
    doc: '§3.1, §12',
    fixed: '400 invalidParameter.downloadCode.invalid',
    check: 'robot-download-code',
  },
  {
    id: 'robot.otoMaxUsers',
    title: 'userIds accepted per oToMessages/batchSend',
    doc: '§3.1, §12',
    setting: 'limits.otoMaxUsers',
    check: 'robot-oto-cap',
  },
  {
    id: 'media.badExtensionErrcode',
    title: 'errcode of a media upload of a type DingTalk does not take (.exe)',
    doc: '§6.1, §12',
    fixed: 40005,
    check: 'media-bad-extension',
  },
  {
    id: 'media.badSizeErrcode',
    title: 'errcode of a media upload over the size limit',
    doc: '§6.1, §12',
    fixed: 40006,
    unobservable: 'needs an upload over 20 MB',
  },
  {
    id: 'robot.throttleErrcode',
    title: 'errcode of a custom robot over 20 messages a minute',
    doc: '§2.6, §12',
    setting: 'limits.robotThrottleErrcode',
    unobservable:
      'provoking it takes 21 messages to the group within a minute and blocks the robot for 10 minutes',
  },
  {
    id: 'robot.maxBytes',
    title: 'largest custom-robot webhook body',
    doc: '§2.1, §12',
    setting: 'limits.robotMaxBytes',
    unobservable: 'if DingTalk has no cap, the oversized test message would be posted to the group',
  },
  {
    id: 'notice.dailyCap',
    title: 'work notices per app, per person, per day',
    doc: '§5.2',
    setting: 'limits.noticeDailyCap',
    unobservable: 'provoking it takes 501 work notices to one person in a day',
  },
  {
    id: 'notice.maxUserIds',
    title: 'userid_list size of a work notification',
    doc: '§5.1, §12',
    fixed: 100,
    unobservable:
      'a probe needs 101 recipients, or 101 copies of one that may each count against the daily cap',
  },
  {
    id: 'todo.doneEventType',
    title: 'event type pushed when a person marks a Todo done',
    doc: '§8, §12',
    setting: 'todoDoneEventType',
    // Only with --todo-event: a person must tick the Todo while the suite listens.
    check: 'todo',
  },
  {
    id: 'card.callbackAnswer',
    title: 'what the answer to a card callback may carry',
    doc: '§10, §S8, §12',
    fixed: 'empty',
    unobservable: "needs a person's click on a card and a look at what DingTalk draws",
  },
  {
    id: 'oauth.redirectParam',
    title: "the OAuth redirect's code parameter (authCode or code)",
    doc: '§13.3, §12',
    fixed: 'authCode',
    unobservable: 'needs a person to sign in through the browser',
  },
  {
    id: 'callback.retrySchedule',
    title: 'pushes of an HTTP event that was not answered',
    doc: '§9b, §12',
    setting: 'limits.callbackRetries',
    unobservable: 'needs a public callback URL that fails on purpose',
  },
];

export function factById(id: string): FactDef {
  const f = FACTS.find((x) => x.id === id);
  if (!f) throw new Error(`no fact "${id}"`);
  return f;
}

/** What the emulator, configured by `settings`, answers for this fact. */
export function expectedValue(fact: FactDef, settings: ResolvedSettings): FactValue | undefined {
  if (fact.setting === 'todoDoneEventType') return settings.todoDoneEventType;
  if (fact.setting)
    return settings.limits[fact.setting.slice('limits.'.length) as keyof ResolvedSettings['limits']];
  return fact.fixed;
}

export function agrees(fact: FactDef, expected: FactValue | undefined, observed: FactValue): boolean {
  if (typeof expected === 'number' && typeof observed === 'number')
    return Math.abs(expected - observed) <= (fact.tolerance ?? 0);
  return expected === observed;
}

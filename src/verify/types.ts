/**
 * The shapes of `dingkit verify` (docs/verify.md): what a check gets (`VerifyEnv`), what it records (`Recorder`:
 * observed facts and everything it created, each with the way to remove it), and the report.
 */

import type { DingTalk } from '../client.js';
import type { Redactor } from '../core/redact.js';
import type { FactValue } from './facts.js';
import type { ResolvedSettings } from './settings.js';

/** The test group, from the config's `groups`. */
export interface VerifyGroup {
  alias: string;
  openConversationId: string | undefined;
  /** The group's custom robot, when it has one. */
  robot:
    | {
        name: string;
        webhook: string;
        secret?: string | undefined;
        keywords?: readonly string[] | undefined;
        budget?: { limit: number; windowMs: number } | undefined;
      }
    | undefined;
  /** The group has the app's robot. */
  app: boolean;
}

/** The operator: filled in as checks learn more (a mobile gives a userId, a userId a unionId). */
export interface VerifyMe {
  label: string;
  mobile?: string | undefined;
  userId?: string | undefined;
  unionId?: string | undefined;
}

export interface VerifyEnv {
  /** The client: with the app's credentials when the config has an app (`appKey`), else for app-less calls only. */
  dt: DingTalk;
  appName: string | undefined;
  appKey: string | undefined;
  appSecret: string | undefined;
  agentId: string | number | undefined;
  oapiBase: string;
  apiBase: string;
  group: VerifyGroup | undefined;
  me: VerifyMe | undefined;
  /** `tasks.cards.templateId` of the config. */
  cardTemplateId: string | undefined;
  /** May the suite send and create (confirmed, or `--yes`)? */
  writes: boolean;
  settings: ResolvedSettings;
  /** A short id of this run, in every text and id it sends (so a leftover is recognisable). */
  runId: string;
  timeoutMs: number;
  redactor: Redactor;
  env: Record<string, string | undefined>;
  /** How long the Todo check waits for the operator to tick the Todo (`--todo-event`); 0: it does not ask. */
  todoEventWaitMs: number;
  /**
   * Interrupts the run (Ctrl-C): checks not yet started are skipped and the cleanup runs at once. A call in flight
   * finishes (its item is then recorded and removed); a wait for the operator ends.
   */
  signal: AbortSignal | undefined;
  /** Asks the operator to do something in DingTalk (the CLI prints it; tests act as the person). */
  askOperator: (act: OperatorAct) => Promise<void> | void;
}

/** Something only a person can do in DingTalk. */
export type OperatorAct = {
  kind: 'todo-done';
  taskId: string;
  unionId: string;
  subject: string;
  waitMs: number;
};

export interface Recorder {
  /** What DingTalk answered for a fact of the registry (facts.ts). */
  observe(factId: string, value: FactValue, how: string): void;
  /** A fact this check meant to observe but could not. */
  unobserved(factId: string, why: string): void;
  /**
   * Something now exists in DingTalk. `undo` removes it at the end (even when later checks fail); without it, `keep`
   * says why it cannot be removed.
   */
  created(item: { what: string; to: string; undo?: () => Promise<void>; keep?: string }): void;
}

export type CheckStatus = 'ok' | 'failed' | 'could_not_run' | 'skipped';

export interface VerifyCheck {
  id: string;
  family: string;
  title: string;
  /** Facts this check observes. */
  facts?: readonly string[];
  /**
   * For a check that sends or creates: what it sends and to whom (the confirmation lists it), or a reason it
   * cannot run with this config (`{ skip }`). Absent: a read-only check.
   */
  plan?: (env: VerifyEnv) => { sends: string } | { skip: string };
  /** For a read-only check: a reason it cannot run with this config. */
  skip?: (env: VerifyEnv) => string | undefined;
  /** Resolves to a one-line result; throws when it could not run; `{ failed }` when DingTalk's answer was wrong. */
  run(env: VerifyEnv, rec: Recorder): Promise<string | { failed: string }>;
}

export interface CheckResult {
  id: string;
  family: string;
  title: string;
  status: CheckStatus;
  detail: string;
  ms: number;
}

export type Verdict = 'agrees' | 'differs' | 'not_observed';

export interface FactResult {
  id: string;
  title: string;
  doc: string;
  /** Emulator option, or `null` when the emulator's behaviour is fixed in code. */
  setting: string | null;
  /** What the emulator answers (defaults, or the `--settings` compared against). */
  emulator: FactValue | null;
  /** What this org's DingTalk answered. */
  observed: FactValue | null;
  verdict: Verdict;
  /** How it was observed, or why not. */
  detail: string;
}

export interface Leftover {
  what: string;
  to: string;
  reason: string;
}

export interface VerifyReport {
  runId: string;
  target: { oapiBase: string; apiBase: string };
  mode: 'read-only' | 'write';
  checks: CheckResult[];
  facts: FactResult[];
  removed: Array<{ what: string; to: string }>;
  leftovers: Leftover[];
  summary: {
    checks: Record<CheckStatus, number>;
    agrees: number;
    differs: number;
    notObserved: number;
  };
}

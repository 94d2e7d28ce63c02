/**
 * What a hook request becomes once parsed: items, one per alert (Alertmanager) or one per request (generic). An
 * item is what rules route, templates render and digests count; it is stored as JSON in `hook_items.payload`.
 */

export type ItemKind = 'firing' | 'resolved' | 'event';

export interface HookItem {
  kind: ItemKind;
  /** Alertmanager's fingerprint: the alert's identity across its firing and resolved notifications. */
  fingerprint?: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  generatorURL?: string | undefined;
  /** Grafana's links of the alert (its dashboard, panel, a pre-filled silence, an image), when it sends them. */
  links?: { dashboard?: string; panel?: string; silence?: string; image?: string } | undefined;
  /** Grafana: the values of the rule's queries and expressions when it fired (`{ B: 44.2, C: 1 }`). */
  values?: Record<string, number | null> | undefined;
  /** Grafana: the same values as one line of text (`[ var='B' labels={} value=44.2 ]`). */
  valueString?: string | undefined;
  /** Generic routes: the posted JSON, for templates (`{{ body.title }}`). */
  body?: unknown;
  /** Where it came from (Alertmanager's receiver, externalURL, groupKey). */
  source?: { receiver?: string; externalURL?: string; groupKey?: string; orgId?: number } | undefined;
  /** People (directory keys) to @mention, found by the kind itself (GitHub: a requested reviewer's login). */
  mentions?: string[] | undefined;
  /** A resolved item that only means something after a firing one (a green CI run): folded when none is known. */
  onlyIfFiring?: boolean | undefined;
  /** Not a message but a change of a dingkit task (GitHub issues, github-tasks.ts). */
  task?: IssueTaskOp | undefined;
}

/** What an issue event does to the task linked to that issue (github-tasks.ts). */
export interface IssueTaskOp {
  op: 'assign' | 'unassign' | 'close' | 'reopen';
  repo: string;
  number: number;
  title: string;
  url: string;
  /** The people (directory keys) the event names: the assigned or unassigned one(s) with a mapped login. */
  people: string[];
  /** Logins the directory does not know (kept as text, never guessed). */
  unknown: string[];
}

/** A parsed request: its dedupe key and its items. */
export interface ParsedHook {
  dedupKey: string;
  items: HookItem[];
  /** Accepted but nothing to do (GitHub's `ping`, events and actions no route handles): answered 200, not stored. */
  ignored?: string | undefined;
}

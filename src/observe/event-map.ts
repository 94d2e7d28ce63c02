/**
 * Every event the hub publishes, by name, with the payload it carries: the one list the publishers (src/hub), the
 * SSE route, the dashboard's listeners, `dingkit events` and docs/http-api.md are all held to. A name outside the
 * map does not compile at a `publish` call; a name added to the map without being added to `EVENT_NAMES` does not
 * compile either, and the dashboard registers a listener for each entry of `EVENT_NAMES`, so it cannot miss one.
 *
 * The payloads are what goes on the wire (the SSE `data`, with `at` added): plain JSON, people named by their
 * display name or the API token's name (`by`), never a secret.
 */

/** A delivery's status change, as the dispatcher records it (one job of a message, to one target). */
export interface DeliveryEvent {
  /** The delivery's row id. */
  id: number;
  messageId: string;
  /** `queued`, `sending`, `sent`, `parked`, `dead` or `cancelled`. */
  status: string;
  attempts: number;
  /** A group alias or a person's name. */
  target: string;
  /** `robot`, `app` or `notice`. */
  channel: string;
  /** Why the last attempt failed, redacted where it was built. */
  lastError?: string | undefined;
  /** DingTalk's id of what was sent (a Todo id, a notice task id), once known. */
  remoteId?: string | undefined;
  /** When a retried or deferred delivery is due again (epoch ms). */
  runAt?: number | undefined;
}

export interface HubEvents {
  /** A message was accepted and its deliveries queued (not published for an idempotent repeat). */
  'message.queued': { messageId: string; target: string; parts: number; by: string };
  /** A delivery changed status. */
  delivery: DeliveryEvent;
  /**
   * DingTalk reported what became of a sent message for one recipient (a work notice's send result, an app-robot
   * read status): `delivered`, `read` or `dropped` with `reasonCode` (e.g. `143106`, `invalid_user`).
   */
  'delivery.recipient': {
    id: number;
    channel: string;
    target: string;
    userId: string;
    outcome: string;
    reasonCode?: string;
  };
  /** Dead or parked deliveries were put back in the queue. */
  'delivery.redriven': { count: number; by: string };
  /** An operator settled a parked delivery (`mark-sent`, `redrive`, `drop`); `status` is what it became. */
  'delivery.resolved': { id: string; action: string; status: string; by: string };
  'task.created': { id: number; title: string; state: string; by: string };
  /**
   * A task moved (`start`, `done`, `cancel`, `reopen`): one event per move, whatever made it, published once the
   * move has committed. `via` says where it came from when not the API or the CLI (`chat`: a chat command;
   * `card`: a task card's button; `todo`: a Todo marked done in DingTalk, whose id is `todoId`).
   */
  'task.changed': {
    id: number;
    state: string;
    action: string;
    by: string;
    via?: 'chat' | 'todo' | 'card';
    todoId?: string;
  };
  /** A task's title, description, due date, group or assignees changed; `fields` names which. */
  'task.edited': { id: number; state: string; by: string; fields: string[] };
  /**
   * An assignee's DingTalk Todo was created. `closedLate`: the task had ended meanwhile, so the Todo is closed
   * straight away; `deleted`: the assignee had been removed meanwhile, so the Todo is deleted.
   */
  'task.todo': { id: number; assignee: string; todoId: string; closedLate?: true; deleted?: true };
  'task.reminded': { id: number };
  'task.escalated': { id: number };
  'file.shared': { id: string; fileName: string; target: string; channel: string; by: string };
  /**
   * A chat command reached the bot (`done 42`, `tasks`, `help`, …), published once its handling has committed. `taskId`
   * and `action` for a transition; `refused` when the access rule turned it down (`unidentified`, `no_task`,
   * `not_permitted`). A move it made is its own `task.changed`.
   */
  'inbound.command': {
    kind: 'transition' | 'list' | 'help' | 'unknown';
    by: string;
    taskId?: number;
    action?: string;
    refused?: string;
  };
}

export type HubEventName = keyof HubEvents;

type Missing<T extends readonly HubEventName[]> = Exclude<HubEventName, T[number]>;

/** Returns its argument; a list that leaves out a name of `HubEvents` is a type error naming it (`missing`). */
function everyName<const T extends readonly HubEventName[]>(
  names: T & ([Missing<T>] extends [never] ? unknown : { missing: Missing<T> }),
): T {
  return names;
}

/** Every event name, in the order docs and help list them. */
export const EVENT_NAMES = everyName([
  'message.queued',
  'delivery',
  'delivery.recipient',
  'delivery.redriven',
  'delivery.resolved',
  'task.created',
  'task.changed',
  'task.edited',
  'task.todo',
  'task.reminded',
  'task.escalated',
  'file.shared',
  'inbound.command',
]);

const KNOWN: ReadonlySet<string> = new Set(EVENT_NAMES);

export function isEventName(s: string): s is HubEventName {
  return KNOWN.has(s);
}

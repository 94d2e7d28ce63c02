/**
 * An in-memory HubService for testing the HTTP layer and the CLI without the store or DingTalk. It follows the
 * contract's rules that the API relies on (idempotency keys, the task state machine, redrive of dead/parked only,
 * name resolution against a small directory) and records every call so tests can assert what reached the hub.
 */

import { readFileSync } from 'node:fs';
import { ValidationError } from '../../src/core/errors.js';
import { DeliveryResolveConflictError } from '../../src/hub/delivery/resolve.js';
import type {
  Actor,
  Delivery,
  DeliveryDecision,
  DeliveryDetail,
  DeliveryEvidence,
  FileShare,
  FileShareInput,
  HealthReport,
  HubService,
  Person,
  ResolveAction,
  ResolveResult,
  SendMessageInput,
  SendResult,
  Task,
  TaskFilter,
  TaskInput,
  TaskPatch,
} from '../../src/hub/service.js';
import { transition } from '../../src/hub/tasks/state.js';
import { EventBus } from '../../src/observe/events.js';

export interface FakeCall {
  method: string;
  args: unknown[];
}

export class FakeHub implements HubService {
  readonly calls: FakeCall[] = [];
  readonly events = new EventBus();
  readonly people: Person[] = [
    { name: 'Alice', userId: 'u-alice', mobile: '13800000001' },
    { name: 'Bob', userId: 'u-bob' },
  ];
  readonly groups = new Set(['ops', 'dev']);
  readonly messages = new Map<string, SendResult>();
  readonly #byKey = new Map<string, string>();
  readonly tasks = new Map<number, Task>();
  readonly deliveries: Delivery[] = [];
  /** Evidence by delivery id (the payload shown is whatever a test puts here); decisions are appended on resolve. */
  readonly evidence = new Map<
    string,
    Omit<DeliveryEvidence, keyof Delivery | 'people' | 'recipients' | 'check'>
  >();
  readonly shares: Array<FileShare & { bytes: Buffer }> = [];
  #seq = 0;
  /** Make the next call of this method throw (tests of the 5xx path). */
  failNext: { method: string; error: unknown } | undefined;
  now = () => new Date('2026-11-25T10:00:00.000Z').getTime() + this.#seq * 1000;

  #record(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failNext?.method === method) {
      const e = this.failNext.error;
      this.failNext = undefined;
      throw e;
    }
  }

  #iso(): string {
    return new Date(this.now()).toISOString();
  }

  #resolveTargets(d: { group?: string | undefined; to?: readonly string[] | undefined }): string[] {
    if (d.group !== undefined) {
      if (!this.groups.has(d.group)) throw new ValidationError(`no group named "${d.group}"`, 'group');
      return [d.group];
    }
    return (d.to ?? []).map((n) => {
      const p = this.people.find((x) => x.name === n || x.userId === n);
      if (!p) throw new ValidationError(`no person named "${n}"`, 'to');
      return p.name;
    });
  }

  async sendMessage(input: SendMessageInput, actor: Actor): Promise<SendResult> {
    this.#record('sendMessage', [input, actor]);
    if (input.idempotencyKey) {
      const first = this.#byKey.get(input.idempotencyKey);
      if (first) return { ...this.messages.get(first)!, duplicate: true };
    }
    const targets = this.#resolveTargets(input);
    const messageId = `msg_${++this.#seq}`;
    const deliveries = targets.map((target): Delivery => {
      const d: Delivery = {
        id: String(++this.#seq), // numeric, as the store gives
        status: 'queued',
        channel: input.group ? 'robot' : 'notice',
        target,
        attempts: 0,
        createdAt: this.#iso(),
        updatedAt: this.#iso(),
      };
      this.deliveries.push(d);
      return d;
    });
    const result: SendResult = { messageId, duplicate: false, deliveries };
    this.messages.set(messageId, result);
    if (input.idempotencyKey) this.#byKey.set(input.idempotencyKey, messageId);
    this.events.publish('message.queued', {
      messageId,
      target: input.group ?? input.to?.join(', ') ?? '',
      parts: deliveries.length,
      by: actor.by,
    });
    return result;
  }

  async getMessage(messageId: string): Promise<SendResult | undefined> {
    this.#record('getMessage', [messageId]);
    return this.messages.get(messageId);
  }

  async assignTask(input: TaskInput, actor: Actor): Promise<Task> {
    this.#record('assignTask', [input, actor]);
    this.#resolveTargets({ to: input.assignees });
    if (input.group !== undefined) this.#resolveTargets({ group: input.group });
    const id = this.tasks.size + 1;
    const task: Task = {
      id,
      title: input.title,
      description: input.description,
      state: 'open',
      assignees: input.assignees.map((name) => ({ name, todoId: `todo-${id}-${name}` })),
      group: input.group,
      due: input.due,
      priority: input.priority ?? 'normal',
      createdAt: this.#iso(),
      updatedAt: this.#iso(),
      history: [{ at: this.#iso(), kind: 'created', by: actor.by }],
    };
    this.tasks.set(id, task);
    this.events.publish('task.created', { id, title: task.title, state: task.state, by: actor.by });
    return task;
  }

  async getTask(id: number): Promise<Task | undefined> {
    this.#record('getTask', [id]);
    return this.tasks.get(id);
  }

  async listTasks(filter: TaskFilter): Promise<Task[]> {
    this.#record('listTasks', [filter]);
    return [...this.tasks.values()]
      .filter((t) => !filter.state || t.state === filter.state)
      .filter((t) => !filter.assignee || t.assignees.some((a) => a.name === filter.assignee))
      .filter((t) => !filter.group || t.group === filter.group)
      .slice(0, filter.limit ?? 100);
  }

  async actOnTask(
    id: number,
    action: 'start' | 'done' | 'cancel' | 'reopen',
    actor: Actor,
    note?: string,
  ): Promise<Task> {
    this.#record('actOnTask', [id, action, actor, note]);
    const t = this.tasks.get(id);
    if (!t) throw new ValidationError(`no task #${id}`, 'id');
    t.state = transition(t.state, action);
    t.updatedAt = this.#iso();
    t.history.push({ at: this.#iso(), kind: action, by: actor.by, ...(note ? { note } : {}) });
    this.events.publish('task.changed', { id, state: t.state, action, by: actor.by });
    return t;
  }

  async updateTask(id: number, patch: TaskPatch, actor: Actor): Promise<Task> {
    this.#record('updateTask', [id, patch, actor]);
    const t = this.tasks.get(id);
    if (!t) throw new ValidationError(`no task #${id}`, 'id');
    if (t.state === 'done' || t.state === 'cancelled')
      throw new ValidationError(`cannot edit a task that is ${t.state}`, 'state');
    if (patch.addAssignees) this.#resolveTargets({ to: patch.addAssignees });
    if (patch.group) this.#resolveTargets({ group: patch.group });
    if (patch.title !== undefined) t.title = patch.title;
    if (patch.description !== undefined) t.description = patch.description ?? undefined;
    if (patch.due !== undefined) t.due = patch.due ?? undefined;
    if (patch.group !== undefined) t.group = patch.group ?? undefined;
    const removed = new Set(patch.removeAssignees ?? []);
    t.assignees = t.assignees.filter((a) => !removed.has(a.name));
    for (const name of patch.addAssignees ?? []) {
      if (!t.assignees.some((a) => a.name === name)) t.assignees.push({ name, todoId: `todo-${id}-${name}` });
    }
    if (t.assignees.length === 0)
      throw new ValidationError('a task keeps at least one assignee', 'assignees');
    t.updatedAt = this.#iso();
    t.history.push({ at: this.#iso(), kind: 'edited', by: actor.by });
    this.events.publish('task.edited', { id, state: t.state, by: actor.by, fields: Object.keys(patch) });
    return t;
  }

  async shareFile(input: FileShareInput, actor: Actor): Promise<FileShare> {
    this.#record('shareFile', [{ ...input, content: '<bytes>' }, actor]);
    const [target] = this.#resolveTargets(input);
    const c = input.content;
    // The API hands over a temporary file it removes once this returns: read it now.
    const bytes = Buffer.isBuffer(c)
      ? c
      : 'path' in c && typeof c.path === 'string'
        ? readFileSync(c.path)
        : Buffer.alloc(0);
    const share = {
      id: `file_${++this.#seq}`,
      fileName: input.fileName,
      size: bytes.length,
      mediaId: `@media${this.#seq}`,
      target: target ?? '',
      channel: input.group ? ('app' as const) : ('notice' as const),
      status: 'queued' as const,
      createdAt: this.#iso(),
    };
    this.shares.push({ ...share, bytes });
    this.events.publish('file.shared', {
      id: share.id,
      fileName: share.fileName,
      target: share.target,
      channel: share.channel,
      by: actor.by,
    });
    return share;
  }

  async listShares(limit?: number): Promise<FileShare[]> {
    this.#record('listShares', [limit]);
    return this.shares.slice(0, limit ?? 100).map(({ bytes: _bytes, ...s }) => s);
  }

  async listDeliveries(filter: {
    status?: Delivery['status'] | undefined;
    dropped?: boolean | undefined;
    limit?: number | undefined;
  }) {
    this.#record('listDeliveries', [filter]);
    return this.deliveries
      .filter((d) => !filter.status || d.status === filter.status)
      .filter((d) => !filter.dropped || (d.recipients?.dropped ?? 0) > 0)
      .slice(0, filter.limit ?? 100);
  }

  /** Recipients of a delivery as `getDelivery` shows them (tests fill it). */
  readonly details = new Map<string, DeliveryDetail>();

  async getDelivery(id: string): Promise<DeliveryDetail | undefined> {
    this.#record('getDelivery', [id]);
    const d = this.details.get(id);
    if (d) return d;
    const base = this.deliveries.find((x) => x.id === id);
    return base ? { ...base, messageId: 'msg_fake', people: [] } : undefined;
  }

  async redrive(ids: readonly string[] | 'all-dead', actor: Actor): Promise<number> {
    this.#record('redrive', [ids, actor]);
    let moved = 0;
    for (const d of this.deliveries) {
      const wanted = ids === 'all-dead' ? d.status === 'dead' : ids.includes(d.id);
      if (wanted && (d.status === 'dead' || d.status === 'parked')) {
        d.status = 'queued';
        moved++;
      }
    }
    if (moved) this.events.publish('delivery.redriven', { count: moved, by: actor.by });
    return moved;
  }

  /** The evidence a test set for a delivery, or a plain message's with no failure and no decision. */
  #evidenceOf(id: string): Omit<DeliveryEvidence, keyof Delivery | 'people' | 'recipients' | 'check'> {
    return (
      this.evidence.get(id) ?? {
        messageId: 'm-1',
        kind: 'message',
        via: 'app:hub',
        payload: {},
        failures: [],
        decisions: [],
      }
    );
  }

  async deliveryEvidence(id: string): Promise<DeliveryEvidence | undefined> {
    this.#record('deliveryEvidence', [id]);
    const d = this.deliveries.find((x) => x.id === id);
    if (!d) return undefined;
    const e = this.#evidenceOf(id);
    const detail = this.details.get(id);
    return {
      ...d,
      people: detail?.people ?? [],
      recipients: detail?.recipients,
      check: detail?.check,
      ...e,
    };
  }

  async resolveDelivery(
    id: string,
    action: ResolveAction,
    actor: Actor,
    note?: string,
  ): Promise<ResolveResult | undefined> {
    this.#record('resolveDelivery', [id, action, actor, note]);
    const d = this.deliveries.find((x) => x.id === id);
    if (!d) return undefined;
    const e = this.#evidenceOf(id);
    this.evidence.set(id, e);
    const last = e.decisions.at(-1);
    if (d.status !== 'parked') {
      if (last && last.action === action && last.by === actor.by) {
        return { delivery: d, decision: last, duplicate: true };
      }
      throw new DeliveryResolveConflictError(last ? 'already_resolved' : 'not_parked', d.status, last);
    }
    const decision: DeliveryDecision = {
      action,
      by: actor.by,
      at: this.#iso(),
      ...(note ? { note } : {}),
      previousStatus: 'parked',
    };
    e.decisions.push(decision);
    d.status = action === 'mark-sent' ? 'sent' : action === 'drop' ? 'cancelled' : 'queued';
    this.events.publish('delivery.resolved', { id, action, status: d.status, by: actor.by });
    return { delivery: d, decision, duplicate: false };
  }

  async listPeople(): Promise<Person[]> {
    this.#record('listPeople', []);
    return this.people;
  }

  /** The zone `health` reports (the hub's `timeZone`); unset, none is reported. */
  timeZone: string | undefined;
  /** The receivers `health` reports (`inbound.mode`); unset, none are reported. */
  receivers: HealthReport['receivers'];

  async health(): Promise<HealthReport> {
    this.#record('health', []);
    const count = (s: Delivery['status']) => this.deliveries.filter((d) => d.status === s).length;
    return {
      ok: true,
      version: '0.1.0',
      store: 'sqlite',
      stream: 'off',
      queue: { queued: count('queued'), parked: count('parked'), dead: count('dead') },
      ...(this.timeZone !== undefined ? { timeZone: this.timeZone } : {}),
      ...(this.receivers !== undefined ? { receivers: this.receivers } : {}),
    };
  }

  /** Test helper: a dead letter as the dispatcher would leave it. */
  addDead(target: string, lastError: string): Delivery {
    const d: Delivery = {
      id: String(++this.#seq), // numeric, as the store gives
      status: 'dead',
      channel: 'robot',
      target,
      attempts: 1,
      lastError,
      createdAt: this.#iso(),
      updatedAt: this.#iso(),
    };
    this.deliveries.push(d);
    return d;
  }

  /**
   * A parked delivery (outcome unknown) with evidence: numeric id as the store gives, `payload` as stored (user
   * text: tests put markup in it), one failed attempt.
   */
  addParked(target: string, payload: unknown, reason = 'TIMEOUT: no answer in 10000 ms'): Delivery {
    const id = String(1_000 + ++this.#seq);
    const d: Delivery = {
      id,
      status: 'parked',
      channel: 'app',
      target,
      attempts: 1,
      lastError: reason,
      createdAt: this.#iso(),
      updatedAt: this.#iso(),
    };
    this.deliveries.push(d);
    this.evidence.set(id, {
      messageId: `msg_${this.#seq}`,
      kind: 'message',
      via: 'app:hub',
      payload,
      parkedAt: this.#iso(),
      failures: [
        { attempt: 1, at: this.#iso(), action: 'park', code: 'TIMEOUT', outcome: 'unknown', reason },
      ],
      decisions: [],
    });
    return d;
  }
}

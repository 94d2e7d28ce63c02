/**
 * `sendMessage`: template → people → plan → one durable enqueue. Nothing reaches DingTalk here: once the enqueue
 * commits the caller has its answer, and the dispatcher delivers (retrying, throttling per robot, in order).
 * Every rule that can refuse a message runs before the enqueue, so a refused message leaves nothing behind.
 */

import { ValidationError } from '../../core/errors.js';
import type { EventBus } from '../../observe/events.js';
import { requestFingerprint } from '../../store/idempotency.js';
import type { HubConfig } from '../config.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import { type PeopleDirectory, resolveUnique } from '../people.js';
import { type Actor, keyScopeOf, type SendMessageInput, type SendResult } from '../service.js';
import { type MentionTarget, planMessage } from './plan.js';
import { renderTemplate } from './template.js';

export class MessageService {
  readonly #cfg: HubConfig;
  readonly #outbox: OutboxPort;
  readonly #people: PeopleDirectory;
  readonly #events: EventBus;

  constructor(o: { config: HubConfig; outbox: OutboxPort; people: PeopleDirectory; events: EventBus }) {
    this.#cfg = o.config;
    this.#outbox = o.outbox;
    this.#people = o.people;
    this.#events = o.events;
  }

  async send(input: SendMessageInput, actor: Actor): Promise<SendResult> {
    if (typeof input?.text !== 'string') throw new ValidationError('is required', 'text');
    const format = input.format ?? (input.title !== undefined ? 'markdown' : 'text');
    if (format !== 'text' && format !== 'markdown') throw new ValidationError('text or markdown', 'format');
    const vars = input.vars ?? {};
    const text = renderTemplate(input.text, vars);
    const title = input.title !== undefined ? renderTemplate(input.title, vars) : undefined;
    // Each person once, however often (or under however many names) they are listed.
    const to: MentionTarget[] | undefined = input.to
      ? await resolveUnique(this.#people, input.to, { userId: true })
      : undefined;
    const mention: MentionTarget[] = await resolveUnique(this.#people, input.mention ?? [], { userId: true });
    const jobs = planMessage(
      {
        group: input.group,
        to,
        via: input.via,
        text,
        format,
        title,
        mention,
        mentionAll: input.mentionAll,
        ordered: input.ordered,
      },
      this.#cfg,
    );
    const r = await this.#outbox.enqueue({
      kind: 'message',
      request: {
        group: input.group,
        to: to?.map((p) => p.name),
        via: input.via,
        format,
        title,
        mention: input.mention === undefined ? undefined : mention.map((p) => p.name),
        ...(input.ordered !== undefined ? { ordered: input.ordered } : {}),
        bytes: Buffer.byteLength(text),
      },
      idempotencyKey: input.idempotencyKey,
      idempotencyScope: keyScopeOf(actor),
      // The request as the caller made it, before templates and defaults: what "the same request" means to them.
      requestHash:
        input.idempotencyKey === undefined
          ? undefined
          : requestFingerprint({ ...input, idempotencyKey: undefined }),
      createdBy: actor.by,
      jobs,
    });
    if (!r.duplicate) {
      this.#events.publish('message.queued', {
        messageId: r.messageId,
        target: input.group ?? to?.map((p) => p.name).join(', ') ?? '',
        parts: r.deliveries.length,
        by: actor.by,
      });
    }
    return { messageId: r.messageId, duplicate: r.duplicate, deliveries: r.deliveries };
  }
}

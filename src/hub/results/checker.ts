/**
 * The send-result checker: after DingTalk accepted a work notice or an app-robot message, ask what became of it
 * (docs/dingtalk.md §5.1 getsendresult, §3.1 read status) on the schedule of schedule.ts, and record each
 * recipient's outcome (delivered, read, dropped with DingTalk's reason). Without it a notice DingTalk dropped
 * silently (§5.2: same content twice a day, the daily cap) stays `sent` and nobody knows.
 *
 * - Every round enrols newly sent deliveries (repo.ts `enroll`: a short look back each round, the whole window now
 *   and then, so a delivery whose result was recorded late is still found), then claims due questions under a
 *   lease in the store: several hub processes share the work and never ask about one delivery at once.
 * - Each question first takes a slot of the app's budget (`notices.budget`, in the store, shared by every
 *   process: the same sliding window as the dispatcher's robot budgets, delivery/limiter.ts); with none free the
 *   question waits for the window, not the next poll.
 * - Answers are written in one transaction with the next question's time and, for a dropped notice, the fallback
 *   (fallback.ts), fenced by the lease: a checker that lost its lease writes nothing.
 */

import { randomUUID } from 'node:crypto';
import { DingTalkError, isPlatformError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { redactByName } from '../../core/redact.js';
import type { EventBus } from '../../observe/events.js';
import type { Counter, Registry } from '../../observe/metrics.js';
import type { Store } from '../../store/open-store.js';
import type { HubConfig } from '../config.js';
import { StoreLimiterStore } from '../delivery/limiter.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { DingTalkPort, NoticeMessage } from '../dingtalk/port.js';
import type { StoreFaultSink } from '../store-faults.js';
import { enqueueFallback, templateOf } from './fallback.js';
import { type CheckRow, claimDue, currentOutcomes, enroll, settleCheck } from './repo.js';
import {
  advances,
  type CheckTiming,
  firstCheckAt,
  nextCheckAt,
  noticeOutcomes,
  type RecipientState,
  robotOutcomes,
  settled,
} from './schedule.js';

export type NoticeSettings = HubConfig['notices'];

/** For a config built in code before the key existed. */
export const DEFAULT_NOTICES: NoticeSettings = {
  checkResults: true,
  firstCheckMs: 60_000,
  maxIntervalMs: 4 * 3_600_000,
  windowMs: 86_400_000,
  trackReads: true,
  groupReads: false,
  budget: { limit: 10, windowMs: 1_000 },
  pollMs: 1_000,
  droppedFallback: 'none',
};

/** Each round looks this far back for newly sent deliveries: results are recorded a moment after their stamp. */
const ENROL_SLACK_MS = 60_000;
/** And this often over the whole window (a result recorded after a long store outage carries an old stamp). */
const FULL_SWEEP_MS = 10 * 60_000;
const CLAIM_BATCH = 20;

export interface ResultCheckerDeps {
  config: HubConfig;
  store: Store;
  dingtalk: DingTalkPort;
  outbox: OutboxPort;
  events: EventBus;
  metrics: Registry;
  logger: Logger;
  faults?: StoreFaultSink | undefined;
  now: () => number;
  owner?: string | undefined;
  /** How long a claimed question stays ours. @default 30_000 */
  leaseMs?: number | undefined;
  /**
   * @internal Test twin only: read due questions without claiming them, as a checker with no lease in the store
   * would (two processes then both ask). Never in production.
   */
  unsafeNoClaim?: boolean | undefined;
}

export interface RoundResult {
  enrolled: number;
  asked: number;
  changed: number;
}

export class ResultChecker {
  readonly owner: string;
  readonly #d: ResultCheckerDeps;
  readonly #s: NoticeSettings;
  readonly #limiter: StoreLimiterStore;
  readonly #recipients: Counter;
  readonly #checks: Counter;
  readonly #fallbacks: Counter;
  #lastSweep: number | undefined;
  #lastFull = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(d: ResultCheckerDeps) {
    this.#d = d;
    this.#s = d.config.notices ?? DEFAULT_NOTICES;
    this.owner = d.owner ?? randomUUID();
    this.#limiter = new StoreLimiterStore(d.store);
    this.#recipients = d.metrics.counter(
      'dingkit_send_recipients_total',
      'Recipient outcomes DingTalk reported after a send, by channel, outcome and reason (a drop code)',
    );
    this.#checks = d.metrics.counter(
      'dingkit_send_checks_total',
      'Send-result questions asked of DingTalk, by kind and result (ok, error, throttled)',
    );
    this.#fallbacks = d.metrics.counter(
      'dingkit_send_fallbacks_total',
      'Fallback sends enqueued for dropped recipients, by kind (app-robot)',
    );
  }

  get timing(): CheckTiming {
    return this.#s;
  }

  start(): void {
    if (!this.#s.checkResults) return;
    this.#stopped = false;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runOnce()
        .catch((e: unknown) => {
          if (!this.#d.faults?.report(e, 'send results'))
            this.#d.logger.warn({ err: (e as Error)?.message }, 'send-result round failed');
        })
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#s.pollMs);
        });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /** One round: enrol, claim, ask, record. */
  async runOnce(): Promise<RoundResult> {
    const out: RoundResult = { enrolled: 0, asked: 0, changed: 0 };
    if (!this.#s.checkResults) return out;
    out.enrolled = await this.#enrol();
    const rows = await this.#claim();
    const leaseMs = this.#d.leaseMs ?? 30_000;
    for (const [i, row] of rows.entries()) {
      // A slow DingTalk could make a round outlive its leases, and another process would then ask about the same
      // deliveries: what is left when a third of the lease remains is given back for the next round, or another.
      if (
        this.#stopped ||
        (!this.#d.unsafeNoClaim && this.#d.now() > Number(row.lease_until) - leaseMs / 3)
      ) {
        await this.#release(rows.slice(i));
        break;
      }
      const r = await this.#check(row);
      if (r.asked) out.asked++;
      out.changed += r.changed;
    }
    return out;
  }

  async #release(rows: readonly CheckRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#d.store.db
      .updateTable('send_checks')
      .set({ lease_owner: null, lease_until: null })
      .where(
        'delivery_id',
        'in',
        rows.map((r) => Number(r.delivery_id)),
      )
      .where('lease_owner', '=', this.owner)
      .execute();
  }

  async #enrol(): Promise<number> {
    const now = this.#d.now();
    const full = now - this.#lastFull >= FULL_SWEEP_MS || this.#lastSweep === undefined;
    const since = full ? now - this.#s.windowMs : this.#lastSweep! - ENROL_SLACK_MS;
    let n = 0;
    for (;;) {
      const found = await enroll(this.#d.store, {
        since,
        now,
        limit: 200,
        groupReads: this.#s.groupReads,
        dueAt: (c) => firstCheckAt(c.sentAt, this.#s),
      });
      n += found.length;
      if (found.length < 200) break;
    }
    this.#lastSweep = now;
    if (full) this.#lastFull = now;
    return n;
  }

  async #claim(): Promise<CheckRow[]> {
    const now = this.#d.now();
    if (this.#d.unsafeNoClaim) {
      return this.#d.store.db
        .selectFrom('send_checks')
        .selectAll()
        .where('done_at', 'is', null)
        .where('due_at', '<=', now)
        .limit(CLAIM_BATCH)
        .execute();
    }
    return claimDue(this.#d.store, {
      owner: this.owner,
      now,
      leaseMs: this.#d.leaseMs ?? 30_000,
      limit: CLAIM_BATCH,
    });
  }

  async #check(row: CheckRow): Promise<{ asked: boolean; changed: number }> {
    const d = this.#d;
    const id = Number(row.delivery_id);
    const sentAt = Number(row.sent_at);
    const owner = d.unsafeNoClaim ? (row.lease_owner ?? '') : this.owner;
    const settle = (next: number | undefined, asked: boolean, error?: string) =>
      d.unsafeNoClaim
        ? d.store.db
            .updateTable('send_checks')
            .set((eb) => ({
              checks: asked ? eb('checks', '+', 1) : eb.ref('checks'),
              due_at: next ?? d.now(),
              done_at: next === undefined ? d.now() : null,
              last_error: error ?? null,
            }))
            .where('delivery_id', '=', id)
            .execute()
            .then(() => true)
        : settleCheck(d.store.db, { deliveryId: id, owner, now: d.now(), next, asked, error });
    if (row.kind === 'none' || d.now() >= sentAt + this.#s.windowMs) {
      await settle(
        undefined,
        false,
        row.kind === 'none' ? undefined : 'DingTalk answers for 24 h after a send; no answer was final',
      );
      return { asked: false, changed: 0 };
    }
    const app = d.config.apps[row.app];
    if (!app) {
      await settle(undefined, false, `no app named "${row.app}" in the config any more`);
      return { asked: false, changed: 0 };
    }
    const slot = await this.#limiter.acquire(`results:${row.app}`, this.#s.budget, d.now());
    if (!slot.ok) {
      this.#checks.inc({ kind: row.kind, result: 'throttled' });
      await settle(slot.retryAt, false);
      return { asked: false, changed: 0 };
    }
    let states: RecipientState[];
    try {
      states = await this.#ask(row, id);
    } catch (e) {
      this.#checks.inc({ kind: row.kind, result: 'error' });
      const msg = e instanceof DingTalkError ? e.message : redactByName(String((e as Error)?.message ?? e));
      // DingTalk no longer knows the handle (a task older than 24 h, a recalled key): nothing more to learn.
      const gone = isPlatformError(e) && (e.errcode === 400002 || /expired/i.test(e.platformCode ?? ''));
      const checks = Number(row.checks) + 1;
      await settle(gone ? undefined : nextCheckAt(sentAt, checks, d.now(), this.#s), true, msg);
      return { asked: true, changed: 0 };
    }
    this.#checks.inc({ kind: row.kind, result: 'ok' });
    return { asked: true, changed: await this.#record(row, id, states, owner) };
  }

  async #ask(row: CheckRow, id: number): Promise<RecipientState[]> {
    const d = this.#d;
    if (row.kind === 'group') {
      const r = await d.dingtalk.robotGroupReadStatus(row.app, row.conversation ?? '', row.handle);
      return robotOutcomes(undefined, r);
    }
    const people = [...(await currentOutcomes(d.store.db, id)).keys()];
    if (row.kind === 'oto')
      return robotOutcomes(people, await d.dingtalk.robotOtoReadStatus(row.app, row.handle));
    return noticeOutcomes(people, await d.dingtalk.noticeResult(row.app, row.handle));
  }

  /** Writes the outcomes that move forward, the fallbacks of new drops and the next question, in one transaction. */
  async #record(row: CheckRow, id: number, states: RecipientState[], owner: string): Promise<number> {
    const d = this.#d;
    const sentAt = Number(row.sent_at);
    const checks = Number(row.checks) + 1;
    const delivery = await d.store.db
      .selectFrom('deliveries')
      .select(['message_id', 'target', 'channel', 'payload'])
      .where('id', '=', id)
      .executeTakeFirst();
    const fileName = await this.#fileNameOf(row, delivery?.message_id);
    const changes: RecipientState[] = [];
    const fallbacks: number[] = [];
    const ok = await d.store
      .transaction(async (tx) => {
        changes.length = 0;
        fallbacks.length = 0;
        const now = d.now();
        const current = await currentOutcomes(tx, id);
        for (const s of states) {
          const prev = current.get(s.userId)?.outcome;
          if (!advances(prev, s.outcome)) continue;
          changes.push(s);
          const values = {
            outcome: s.outcome,
            reason_code: s.reasonCode ?? null,
            reason: s.reason ?? null,
            updated_at: now,
          };
          if (prev === undefined) {
            await tx
              .insertInto('delivery_recipients')
              .values({ delivery_id: id, user_id: s.userId, ...values })
              .onConflict((oc) => oc.columns(['delivery_id', 'user_id']).doUpdateSet(values))
              .execute();
          } else {
            await tx
              .updateTable('delivery_recipients')
              .set(values)
              .where('delivery_id', '=', id)
              .where('user_id', '=', s.userId)
              .execute();
          }
          current.set(s.userId, { outcome: s.outcome, fallbackAt: null });
          if (
            s.outcome === 'dropped' &&
            s.reasonCode !== 'invalid_user' &&
            row.kind === 'notice' &&
            this.#s.droppedFallback === 'app-robot' &&
            delivery
          ) {
            const msg = (JSON.parse(delivery.payload) as { msg: NoticeMessage }).msg;
            const message = templateOf(msg, fileName);
            if (message) {
              const fid = await enqueueFallback(tx, d.outbox, {
                deliveryId: id,
                messageId: delivery.message_id,
                target: delivery.target,
                app: row.app,
                userId: s.userId,
                message,
                now,
              });
              if (fid !== undefined) fallbacks.push(fid);
            }
          }
        }
        const outcomes = [...current.values()].map((c) => c.outcome);
        const done = row.kind !== 'group' && outcomes.length > 0 && settled(outcomes, this.#s.trackReads);
        const next = done ? undefined : nextCheckAt(sentAt, checks, now, this.#s);
        const kept = d.unsafeNoClaim
          ? true
          : await settleCheck(tx, { deliveryId: id, owner, now, next, asked: true });
        if (!kept) throw new LeaseLost();
        return true;
      })
      .catch((e: unknown) => {
        if (e instanceof LeaseLost) return false;
        throw e;
      });
    if (!ok) return 0;
    const channel = delivery?.channel ?? row.kind;
    for (const c of changes) {
      this.#recipients.inc({ channel, outcome: c.outcome, reason: c.reasonCode ?? '' });
      d.events.publish('delivery.recipient', {
        id,
        channel,
        target: delivery?.target ?? '',
        userId: c.userId,
        outcome: c.outcome,
        ...(c.reasonCode !== undefined ? { reasonCode: c.reasonCode } : {}),
      });
    }
    if (fallbacks.length > 0) this.#fallbacks.inc({ kind: 'app-robot' }, fallbacks.length);
    return changes.length;
  }

  async #fileNameOf(row: CheckRow, messageId: string | undefined): Promise<string | undefined> {
    if (row.kind !== 'notice' || messageId === undefined || this.#s.droppedFallback !== 'app-robot')
      return undefined;
    const share = await this.#d.store.db
      .selectFrom('file_shares')
      .select('file_name')
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return share?.file_name;
  }
}

class LeaseLost extends Error {}

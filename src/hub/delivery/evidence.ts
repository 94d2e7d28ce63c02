/**
 * The evidence an operator reads before settling a parked delivery (docs/hub.md "Parked deliveries"): what was to
 * be sent (the stored payload, secret-named fields redacted, and which robot or app it goes through), every attempt
 * that failed with its time, code and outcome (`delivery_attempts`, written by queue.ts `finish`), when it was
 * parked, and the decisions taken on it (`delivery_decisions`, resolve.ts).
 *
 * Payloads hold no credential by design (jobs.ts), but they are user text and may quote anything: a field named
 * like a secret (`token`, `secret`, `sign`...) is replaced anyway, and every string goes through the redactor.
 */

import { isSecretName, REDACTED, type Redactor, redactByName } from '../../core/redact.js';
import type { Store } from '../../store/open-store.js';
import type { DeliveryAttemptRow, DeliveryDecisionRow, DeliveryStatus } from '../../store/schema.js';
import type { DeliveryAttempt, DeliveryDecision, DeliveryEvidence, ResolveAction } from '../service.js';
import { toDelivery } from './outbox.js';

/** Failed attempts shown at most (the newest ones): a delivery retried for days must not make a huge answer. */
const MAX_FAILURES = 100;

/** A copy of a parsed JSON value with secret-named fields replaced and every string redacted. */
export function redactJson(value: unknown, redact: (s: string) => string = redactByName, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretName(k) ? REDACTED : redactJson(v, redact, depth + 1);
  }
  return out;
}

/** The sender a payload goes through, as the config names it: `robot:<name>` or `app:<name>`. */
export function viaOf(payload: unknown): string {
  const p = payload as { t?: unknown; robot?: unknown; app?: unknown } | null;
  if (p && p.t === 'webhook' && typeof p.robot === 'string') return `robot:${p.robot}`;
  if (p && typeof p.app === 'string') return `app:${p.app}`;
  return 'unknown';
}

export function toAttempt(r: DeliveryAttemptRow): DeliveryAttempt {
  return {
    attempt: Number(r.attempt),
    at: new Date(Number(r.at)).toISOString(),
    action: r.action as DeliveryAttempt['action'],
    ...(r.code !== null ? { code: r.code } : {}),
    ...(r.outcome !== null ? { outcome: r.outcome } : {}),
    reason: r.reason,
  };
}

export function toDecision(r: DeliveryDecisionRow): DeliveryDecision {
  return {
    action: r.action as ResolveAction,
    by: r.by_actor,
    at: new Date(Number(r.at)).toISOString(),
    ...(r.note !== null ? { note: r.note } : {}),
    previousStatus: r.previous_status as DeliveryStatus,
  };
}

/** Reads one delivery with its evidence; undefined when there is none with this id. */
export async function readEvidence(
  store: Store,
  id: number,
  redactor?: Redactor,
): Promise<Omit<DeliveryEvidence, 'people' | 'recipients' | 'check'> | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  const row = await store.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [message, failures, decisions] = await Promise.all([
    store.db.selectFrom('messages').select('kind').where('id', '=', row.message_id).executeTakeFirst(),
    store.db
      .selectFrom('delivery_attempts')
      .selectAll()
      .where('delivery_id', '=', id)
      .orderBy('id', 'desc')
      .limit(MAX_FAILURES)
      .execute(),
    store.db
      .selectFrom('delivery_decisions')
      .selectAll()
      .where('delivery_id', '=', id)
      .orderBy('id')
      .execute(),
  ]);
  failures.reverse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.payload);
  } catch {
    // An unreadable payload is shown as the text it is (it is a dead letter, jobs.ts `readJob`).
    parsed = row.payload;
  }
  const redact = (s: string) => (redactor ? redactor.redact(s) : redactByName(s));
  const lastPark = failures.filter((f) => f.action === 'park').at(-1);
  return {
    ...toDelivery(row),
    messageId: row.message_id,
    kind: message?.kind ?? row.kind,
    via: viaOf(parsed),
    payload: redactJson(parsed, redact),
    // A row parked before migration 008 has no attempt rows: its last update is when it was parked.
    ...(lastPark
      ? { parkedAt: new Date(Number(lastPark.at)).toISOString() }
      : row.status === 'parked'
        ? { parkedAt: new Date(Number(row.updated_at)).toISOString() }
        : {}),
    failures: failures.map(toAttempt),
    decisions: decisions.map(toDecision),
  };
}

/**
 * Idempotency keys per caller and request, on both stores (migration 004): a key is unique per
 * (scope, key); the same scope and key with another request fingerprint is refused and writes nothing, also when
 * callers race from several stores; and a database from before 004 keeps its keys, scoped from `created_by`.
 */

import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type EnqueueInput, Outbox } from '../../src/hub/delivery/outbox.js';
import { IdempotencyConflictError, requestFingerprint } from '../../src/store/idempotency.js';
import { migrationsFor } from '../../src/store/migrations/index.js';
import type { Store } from '../../src/store/open-store.js';
import { backends, freshStores } from './backends.js';
import { FakeClock } from './helpers.js';

const msg = (scope: string, key: string, text: string): EnqueueInput => ({
  kind: 'message',
  request: { group: 'ops' },
  idempotencyKey: key,
  idempotencyScope: scope,
  requestHash: requestFingerprint({ group: 'ops', text }),
  jobs: [
    {
      channel: 'robot',
      target: 'ops',
      payload: { t: 'webhook' as const, robot: 'ops', body: { msgtype: 'text', text: { content: text } } },
    },
  ],
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`idempotency scope and fingerprint (${backend.name})`, () => {
    const stores = freshStores(backend);
    const count = async (s: Store) =>
      Number(
        (
          await s.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('one key in two scopes is two messages; a changed request in one scope is refused and writes nothing', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const a = await box.enqueue(msg('token:a', 'deploy-1.4.2', 'done'));
      const b = await box.enqueue(msg('token:b', 'deploy-1.4.2', 'db down'));
      expect(b.duplicate).toBe(false);
      expect(b.messageId).not.toBe(a.messageId);
      expect(await box.enqueue(msg('token:a', 'deploy-1.4.2', 'done'))).toMatchObject({
        messageId: a.messageId,
        duplicate: true,
      });
      await expect(box.enqueue(msg('token:a', 'deploy-1.4.2', 'rollback'))).rejects.toBeInstanceOf(
        IdempotencyConflictError,
      );
      expect(await count(s!)).toBe(2);
    });

    it('after the 24 h window a key starts a new request, whatever the request; only in its own scope', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const box = new Outbox(s!, { now: clock.now });
      const a = await box.enqueue(msg('token:a', 'k', 'one'));
      clock.advance(86_400_000);
      const b = await box.enqueue(msg('token:a', 'k', 'two'));
      expect(b.duplicate).toBe(false);
      expect(b.messageId).not.toBe(a.messageId);
      // Within the window, the new holder answers for the key.
      clock.advance(1_000);
      await expect(box.enqueue(msg('token:a', 'k', 'two'))).resolves.toMatchObject({
        messageId: b.messageId,
        duplicate: true,
      });
      await expect(box.enqueue(msg('token:a', 'k', 'one'))).rejects.toBeInstanceOf(IdempotencyConflictError);
    });

    it('racing: 3 stores x 10 calls with one key, half of them a different request: one message, the rest conflict', async () => {
      const ss = await stores(3);
      const boxes = ss.map((s) => new Outbox(s));
      const calls = Array.from({ length: 30 }, (_, i) =>
        boxes[i % 3]!.enqueue(msg('token:a', 'race', i % 2 === 0 ? 'even' : 'odd')).then(
          (r) => ({ ok: r }),
          (e: unknown) => ({ err: e }),
        ),
      );
      const results = await Promise.all(calls);
      const ok = results.flatMap((r) => ('ok' in r ? [r.ok] : []));
      const errs = results.flatMap((r) => ('err' in r ? [r.err] : []));
      expect(new Set(ok.map((r) => r.messageId)).size).toBe(1);
      expect(ok.length).toBe(15);
      expect(errs.length).toBe(15);
      for (const e of errs) expect(e).toBeInstanceOf(IdempotencyConflictError);
      expect(await count(ss[0]!)).toBe(1);
    });

    it('migration 004 keeps the keys of an older database, scoped as their caller is now', async () => {
      const f = await backend.fresh();
      try {
        const s = await f.open({ migrate: false });
        const migrator = new Migrator({
          db: s.db,
          provider: { getMigrations: async () => migrationsFor(s.dialect) },
          ...(f.schema ? { migrationTableSchema: f.schema } : {}),
        });
        const to3 = await migrator.migrateTo('003_open_hits');
        expect(to3.error).toBeUndefined();
        await sql`insert into messages (id, kind, idempotency_key, request_json, created_by, created_at)
          values ('m-old', 'message', 'old-key', '{}', 'api:ci', ${Date.now()})`.execute(s.db);
        await sql`insert into api_tokens (name, token_hash, scopes, created_at)
          values ('ci', 'abc', '["send"]', 1)`.execute(s.db);
        expect(await s.migrate()).toEqual([
          '004_token_limits_idempotency_scope',
          '005_app_sessions',
          '006_app_session_operator',
          '007_send_results',
          '008_delivery_evidence',
          '009_task_cards',
          '010_gateways',
          '011_github_issues',
          '012_alert_cards',
          '013_hook_item_requests',
        ]);
        const row = await s.db
          .selectFrom('messages')
          .select(['idempotency_key', 'idempotency_scope', 'request_hash'])
          .where('id', '=', 'm-old')
          .executeTakeFirstOrThrow();
        expect(row).toEqual({
          idempotency_key: 'old-key',
          idempotency_scope: 'token:ci',
          request_hash: null,
        });
        const tok = await s.db.selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
        expect(tok).toMatchObject({ expires_at: null, limits: null });
        expect(Number(tok.demo)).toBe(0);
        // The old key answers its caller's retry (no fingerprint to compare), and no one else's.
        const box = new Outbox(s);
        const retry = await box.enqueue({ ...msg('token:ci', 'old-key', 'x') });
        expect(retry).toMatchObject({ messageId: 'm-old', duplicate: true });
        const other = await box.enqueue(msg('token:other', 'old-key', 'x'));
        expect(other.duplicate).toBe(false);
      } finally {
        await f.cleanup();
      }
    });
  });
}

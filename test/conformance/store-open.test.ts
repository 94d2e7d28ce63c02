import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationsFor } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open-store.js';
import { waitFor } from '../support/wait-for.js';
import { backends, PG_URL, pgAvailable } from './backends.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`store open and migrations (${backend.name})`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    it('applies the built-in migrations once; reopening (and migrate again) changes nothing', async () => {
      const f = await backend.fresh();
      cleanup = f.cleanup;
      const a = await f.open({ migrate: false });
      expect(await a.migrate()).toEqual([
        '001_initial',
        '002_order_head_index',
        '003_open_hits',
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
      expect(await a.migrate()).toEqual([]);
      const b = await f.open();
      expect(b.dialect).toBe(backend.name);
      expect(await b.migrate()).toEqual([]);
      const tables = (await b.db.introspection.getTables()).map((t) => t.name).sort();
      for (const t of [
        'deliveries',
        'messages',
        'inbox',
        'tasks',
        'kv',
        'locks',
        'limiter_hits',
        'api_tokens',
        'app_sessions',
        'delivery_attempts',
        'delivery_decisions',
        'task_cards',
        'github_issue_tasks',
      ]) {
        expect(tables).toContain(t);
      }
    });

    it('concurrent opens on an empty database migrate once and all succeed', async () => {
      const f = await backend.fresh();
      cleanup = f.cleanup;
      const stores = await Promise.all([f.open(), f.open(), f.open()]);
      const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(stores[0]!.db);
      expect(Number(r.rows[0]!.n)).toBe(Object.keys(migrationsFor(backend.name)).length);
    });

    it('bigint columns come back as numbers and autoincrement ids are numbers', async () => {
      const f = await backend.fresh();
      cleanup = f.cleanup;
      const s = await f.open();
      const now = 1_764_000_000_123;
      await s.db.insertInto('kv').values({ key: 'k', value: 'v', expires_at: now }).execute();
      const row = await s.db.selectFrom('kv').selectAll().executeTakeFirstOrThrow();
      expect(row.expires_at).toBe(now);
      const t = await s.db
        .insertInto('tasks')
        .values({ title: 't', state: 'open', priority: 'normal', created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(typeof t.id).toBe('number');
    });
  });
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`later migrations (${backend.name})`, () => {
    it('an extra migration applies after the built-in ones, once', async () => {
      const f = await backend.fresh();
      try {
        const extra = {
          '900_test_notes': {
            up: async (db: Kysely<unknown>) => {
              await db.schema
                .createTable('test_notes')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .execute();
            },
          },
        };
        const a = await f.open({ migrate: false, extraMigrations: extra });
        expect(await a.migrate()).toEqual([
          '001_initial',
          '002_order_head_index',
          '003_open_hits',
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
          '900_test_notes',
        ]);
        const b = await f.open({ extraMigrations: extra });
        expect(await b.migrate()).toEqual([]);
        const tables = (await b.db.introspection.getTables()).map((t) => t.name);
        expect(tables).toContain('test_notes');
      } finally {
        await f.cleanup();
      }
    });
  });
}

describe.skipIf(!pgAvailable)('PostgreSQL connection loss', () => {
  it('a pooled connection killed by the server is reported, not thrown, and the next query works', async () => {
    const f = await backends.find((b) => b.name === 'postgres')!.fresh();
    try {
      const errors: Error[] = [];
      const s = await f.open({ onError: (e: Error) => errors.push(e) });
      const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(s.db);
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [pid.rows[0]!.pid]);
      await admin.end();
      await waitFor(() => errors.length > 0, 5_000);
      const r = await sql<{ one: number }>`select 1 as one`.execute(s.db);
      expect(r.rows[0]!.one).toBe(1);
    } finally {
      await f.cleanup();
    }
  });
});

describe.skipIf(!pgAvailable)('PostgreSQL schemas dropped by other processes', () => {
  /** Another process creating and dropping schemas (with tables) in a loop, until stopped. */
  function churn(): { stop: () => Promise<void> } {
    let on = true;
    const done = (async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      for (let i = 0; on; i++) {
        const name = `churn_${process.pid}_${i}`;
        await c.query(`create schema ${name}; create table ${name}.t (id serial primary key, v text)`);
        await c.query(`drop schema ${name} cascade`);
      }
      await c.end();
    })();
    return {
      stop: async () => {
        on = false;
        await done;
      },
    };
  }

  async function introspectDuringChurn(k: Kysely<unknown>): Promise<number> {
    const c = churn();
    let failures = 0;
    try {
      for (let i = 0; i < 40; i++) {
        await k.introspection.getTables({ withInternalKyselyTables: true }).catch(() => failures++);
      }
    } finally {
      await c.stop();
    }
    return failures;
  }

  it('the store introspects (and so migrates) only its own schema: concurrent drops elsewhere never fail it', async () => {
    const f = await backends.find((b) => b.name === 'postgres')!.fresh();
    try {
      const s = await f.open();
      expect(await introspectDuringChurn(s.db as Kysely<unknown>)).toBe(0);
    } finally {
      await f.cleanup();
    }
  });

  it("twin: Kysely's stock introspector, reading every schema, fails during the same churn", async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    const k = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    try {
      expect(await introspectDuringChurn(k)).toBeGreaterThan(0);
    } finally {
      await k.destroy();
    }
  });
});

describe('openStore input checks', () => {
  it('rejects an empty url and a bad schema name with a ConfigError, and never echoes a password', async () => {
    await expect(openStore({ url: '' })).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(
      openStore({ url: 'postgres://u:hunter2@127.0.0.1:5432/x', schema: 'bad;name' }),
    ).rejects.toMatchObject({ code: 'CONFIG' });
    const err = await openStore({ url: 'postgres://u:hunter2@127.0.0.1:1/x' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).not.toContain('hunter2');
    expect((err as { code?: string }).code).toBe('CONFIG');
  });

  it('opens an in-memory SQLite store with every table', async () => {
    const s = await openStore({ url: ':memory:' });
    try {
      expect(s.dialect).toBe('sqlite');
      expect((await s.db.introspection.getTables()).map((t) => t.name)).toContain('deliveries');
    } finally {
      await s.close();
    }
  });
});

/**
 * A PostgreSQL introspector that looks only at the store's own schema.
 *
 * Kysely's Migrator asks "does the migration table exist?" through the introspector, and Kysely's stock
 * PostgreSQL introspector reads every table of every schema, calling name-based catalog functions on each. When
 * another process drops a schema at that moment (other hubs, test suites sharing a database), the query fails
 * with `schema "…" does not exist` about a schema that is not ours, and the hub fails to start. This one reads
 * `pg_class` for the current schema by oid only, so a concurrent drop elsewhere cannot touch it. Column details
 * are not needed by the store and are left empty.
 */

import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type Kysely,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';

export class ScopedPostgresIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const r = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(
      this.#db,
    );
    return r.rows.map((row) => ({ name: row.name }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const r = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')
      order by c.relname`.execute(this.#db);
    return r.rows.map((row) => ({
      name: row.name,
      schema: row.schema,
      isView: row.kind === 'v' || row.kind === 'm',
      columns: [],
    }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

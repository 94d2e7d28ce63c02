/**
 * Column helpers the migrations share, so each dialect's choice is made once: ids are `integer` on SQLite (its
 * rowid) and `bigint` on PostgreSQL; a serial id is SQLite's INTEGER PRIMARY KEY AUTOINCREMENT (ids never reused)
 * or a PostgreSQL identity column. The DDL they produce is what each migration wrote inline before.
 */

import type { ColumnDefinitionBuilder } from 'kysely';
import type { StoreDialect } from '../dialect.js';

export type Col = (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

/** The column type of an id and of every column that refers to one. */
export function idType(dialect: StoreDialect): 'integer' | 'bigint' {
  return dialect === 'sqlite' ? 'integer' : 'bigint';
}

/** A primary key the store numbers itself. */
export function serial(dialect: StoreDialect): Col {
  return (c) =>
    dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity();
}

export const notNull: Col = (c) => c.notNull();

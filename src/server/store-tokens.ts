/**
 * The API token table (`api_tokens`, src/store/schema.ts) behind the `ApiTokenStore` port. Only hashes are
 * written. `name` is unique in the table, so re-using the name of a revoked token renames the revoked row
 * (`ci#revoked-<ms>`) in the same transaction: the audit trail stays, and the new token gets the plain name.
 * Expiry, the demo flag and limits (JSON) are columns of migration 004.
 */

import { ValidationError } from '../core/errors.js';
import type { Store } from '../store/open-store.js';
import type { ApiTokenRow } from '../store/schema.js';
import type { ApiTokenRecord, ApiTokenStore, NewApiToken } from './api-tokens.js';
import type { Scope } from './auth.js';
import { limitsFromJson } from './token-limits.js';

const iso = (ms: number | null) => (ms === null ? undefined : new Date(Number(ms)).toISOString());

function toRecord(r: ApiTokenRow): ApiTokenRecord {
  let scopes: Scope[] = [];
  try {
    const parsed: unknown = JSON.parse(r.scopes);
    if (Array.isArray(parsed))
      scopes = parsed.filter((s): s is Scope => s === 'read' || s === 'send' || s === 'admin');
  } catch {
    // A damaged row grants nothing.
  }
  const limits = limitsFromJson(r.limits);
  return {
    name: r.name,
    hash: r.token_hash,
    scopes,
    createdAt: iso(r.created_at) ?? '',
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
    ...(r.expires_at !== null ? { expiresAt: iso(r.expires_at) } : {}),
    demo: Number(r.demo) === 1,
    ...(limits ? { limits } : {}),
  };
}

export class StoreApiTokens implements ApiTokenStore {
  constructor(private readonly store: Store) {}

  async insert(rec: NewApiToken): Promise<void> {
    const created = Date.parse(rec.createdAt);
    await this.store.transaction(async (tx) => {
      const old = await tx
        .selectFrom('api_tokens')
        .selectAll()
        .where('name', '=', rec.name)
        .executeTakeFirst();
      if (old && old.revoked_at === null) {
        throw new ValidationError(`a live token named "${rec.name}" exists; revoke it first`, 'name');
      }
      if (old) {
        await tx
          .updateTable('api_tokens')
          .set({ name: `${old.name}#revoked-${old.revoked_at}` })
          .where('id', '=', old.id)
          .execute();
      }
      await tx
        .insertInto('api_tokens')
        .values({
          name: rec.name,
          token_hash: rec.hash,
          scopes: JSON.stringify(rec.scopes),
          created_at: created,
          last_used_at: null,
          revoked_at: null,
          expires_at: rec.expiresAt === undefined ? null : Date.parse(rec.expiresAt),
          demo: rec.demo ? 1 : 0,
          limits: rec.limits === undefined ? null : JSON.stringify(rec.limits),
        })
        .execute();
    });
  }

  async findByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const r = await this.store.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  async touch(hash: string, at: string): Promise<void> {
    await this.store.db
      .updateTable('api_tokens')
      .set({ last_used_at: Date.parse(at) })
      .where('token_hash', '=', hash)
      .execute();
  }

  async revoke(name: string, at: string): Promise<boolean> {
    const r = await this.store.db
      .updateTable('api_tokens')
      .set({ revoked_at: Date.parse(at) })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async list(): Promise<ApiTokenRecord[]> {
    const rows = await this.store.db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
    return rows.map(toRecord);
  }
}

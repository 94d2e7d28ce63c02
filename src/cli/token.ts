/**
 * `dingkit token create|list|revoke`: works straight on the store (no hub needed). The raw token is printed once,
 * on stdout, and only its SHA-256 is written; a running hub accepts it within its verifier cache period, and
 * stops accepting a revoked one within a second (its open event streams included).
 */

import { type HubConfig, mayCreateDatabase } from '../hub/config.js';
import { type CreateTokenOptions, createApiToken, parseDuration, parseScopes } from '../server/api-tokens.js';
import { checkLimitsShape, describeLimits, type TokenLimits } from '../server/token-limits.js';
import type { Store } from '../store/open-store.js';
import { type CliContext, list, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { table } from './io.js';

export const tokenHelp = `Usage: dingkit token create NAME [--scopes read,send,admin] [--expires 30d]
                           [--groups a,b] [--people x,y] [--no-at-all]
       dingkit token list
       dingkit token revoke NAME

Scopes: read < send < admin; each includes the ones before it (default: send). The token is shown once.

  --expires D    lifetime: 30d, 12h, 90m or 45s (default: never expires)
  --groups a,b   limit sending to these group aliases
  --people x,y   limit sending to these people (names or userIds)
  --no-at-all    never @all (mentionAll)
With --groups or --people the token may send only to what is listed (--groups alone: no person at all; a task's
assignees count as people). "token list" shows expiry, last use and limits; demo tokens (minted by a demo
"serve") expire within 24 h and are refused by a hub with real credentials.`;

async function openConfiguredStore(config: HubConfig): Promise<Store> {
  const { openStore } = await import('../store/open-store.js');
  try {
    return await openStore({
      url: config.database.url,
      ...(config.database.schema ? { schema: config.database.schema } : {}),
      createDirs: mayCreateDatabase(config),
    });
  } catch (e) {
    throw new CliError(EXIT.config, `cannot open the store: ${(e as Error).message}`, 'store');
  }
}

export async function tokenVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create' && sub !== 'list' && sub !== 'ls' && sub !== 'revoke') {
    throw usage(
      sub
        ? `unknown token command "${sub.slice(0, 20)}" (create, list, revoke)`
        : 'token needs a command: create, list, revoke',
    );
  }
  const { values: v, positionals } = parse(rest, {
    scopes: { type: 'string' },
    expires: { type: 'string' },
    groups: { type: 'string' },
    people: { type: 'string' },
    'no-at-all': { type: 'boolean' },
  });
  for (const flag of ['scopes', 'expires', 'groups', 'people', 'no-at-all'] as const) {
    if (sub !== 'create' && v[flag] !== undefined) throw usage(`--${flag} is for token create`);
  }
  let scopes: ReturnType<typeof parseScopes> = [];
  const options: CreateTokenOptions = {};
  if (sub === 'create') {
    if (positionals.length !== 1) throw usage('token create needs one NAME');
    try {
      scopes = parseScopes(v.scopes ?? 'send');
      if (v.expires !== undefined) options.expiresInMs = parseDuration(v.expires);
      const limits: TokenLimits = {};
      const groups = list(v.groups);
      const people = list(v.people);
      if (v.groups !== undefined && !groups) throw usage('--groups needs at least one group alias');
      if (v.people !== undefined && !people) throw usage('--people needs at least one name');
      if (groups) limits.groups = [...new Set(groups)];
      if (people) limits.people = [...new Set(people)];
      if (v['no-at-all']) limits.noAtAll = true;
      if (Object.keys(limits).length > 0) {
        checkLimitsShape(limits);
        options.limits = limits;
      }
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw usage((e as Error).message);
    }
    if (options.limits && !scopes.some((s) => s !== 'read')) {
      throw usage('--groups, --people and --no-at-all limit sending: give the token the send scope');
    }
  }
  if (sub === 'revoke' && positionals.length !== 1) throw usage('token revoke needs one NAME');
  const store = await openConfiguredStore(ctx.config());
  ctx.onCleanup(() => store.close());
  const { StoreApiTokens } = await import('../server/store-tokens.js');
  const tokens = new StoreApiTokens(store);

  if (sub === 'create') {
    const name = positionals[0]!;
    let created: Awaited<ReturnType<typeof createApiToken>>;
    try {
      created = await createApiToken(tokens, name, scopes, options);
    } catch (e) {
      const msg = (e as Error).message;
      if (/live token/.test(msg)) throw new CliError(EXIT.conflict, msg, 'exists');
      throw usage(msg);
    }
    const { token, record } = created;
    ctx.out.result(
      {
        name: record.name,
        scopes: record.scopes,
        createdAt: record.createdAt,
        ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
        ...(record.limits ? { limits: record.limits } : {}),
        token,
      },
      () => token,
    );
    const until = record.expiresAt ? `, expires ${ctx.localZone().formatIso(record.expiresAt)}` : '';
    const limited = record.limits ? `, limits: ${describeLimits(record.limits)}` : '';
    ctx.out.note(
      `token "${record.name}" (${record.scopes.join(', ')}${until}${limited}) created; it is shown only this once.\nuse it as: export DINGKIT_TOKEN=<the token above>`,
    );
    return EXIT.ok;
  }
  if (sub === 'revoke') {
    const ok = await tokens.revoke(positionals[0]!, new Date().toISOString());
    if (!ok)
      throw new CliError(EXIT.notFound, `no live token named "${positionals[0]!.slice(0, 64)}"`, 'not_found');
    ctx.out.result(
      { revoked: positionals[0] },
      () =>
        `revoked "${positionals[0]}" (a running hub stops accepting it, and ends its open event streams, within a second)`,
    );
    return EXIT.ok;
  }
  const now = Date.now();
  const rows = (await tokens.list()).map(({ hash: _hash, ...r }) => ({
    ...r,
    expired: r.expiresAt !== undefined && !(Date.parse(r.expiresAt) > now),
  }));
  const zone = ctx.localZone();
  const at = (iso: string | undefined) => (iso === undefined ? '-' : zone.formatIso(iso));
  ctx.out.result(rows, () =>
    rows.length === 0
      ? 'no tokens (create one: dingkit token create NAME)'
      : table(
          ['NAME', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED', 'LIMITS'],
          rows.map((r) => [
            r.demo ? `${r.name} (demo)` : r.name,
            r.scopes.join(','),
            at(r.createdAt),
            r.expiresAt ? `${at(r.expiresAt)}${r.expired ? ' (expired)' : ''}` : 'never',
            at(r.lastUsedAt),
            at(r.revokedAt),
            describeLimits(r.limits),
          ]),
        ),
  );
  return EXIT.ok;
}

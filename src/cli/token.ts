/**
 * `dingkit token create|list|revoke`: works straight on the store (no hub needed). The raw token is printed once,
 * on stdout, and only its SHA-256 is written; a running hub accepts it within its verifier cache period.
 */

import { type HubConfig, mayCreateDatabase } from '../hub/config.js';
import { createApiToken, parseScopes } from '../server/api-tokens.js';
import type { Store } from '../store/open-store.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { table } from './io.js';

export const tokenHelp = `Usage: dingkit token create NAME [--scopes read,send,admin]   (default scope: send, which includes read)
       dingkit token list
       dingkit token revoke NAME

Scopes: read < send < admin; each includes the ones before it. The token is shown once.`;

export async function openConfiguredStore(config: HubConfig): Promise<Store> {
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
  const { values: v, positionals } = parse(rest, { scopes: { type: 'string' } });
  if (sub !== 'create' && v.scopes !== undefined) throw usage('--scopes is for token create');
  let scopes: ReturnType<typeof parseScopes> = [];
  if (sub === 'create') {
    if (positionals.length !== 1) throw usage('token create needs one NAME');
    try {
      scopes = parseScopes(v.scopes ?? 'send');
    } catch (e) {
      throw usage((e as Error).message);
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
      created = await createApiToken(tokens, name, scopes);
    } catch (e) {
      const msg = (e as Error).message;
      if (/live token/.test(msg)) throw new CliError(EXIT.conflict, msg, 'exists');
      throw usage(msg);
    }
    const { token, record } = created;
    ctx.out.result(
      { name: record.name, scopes: record.scopes, createdAt: record.createdAt, token },
      () => token,
    );
    ctx.out.note(
      `token "${record.name}" (${record.scopes.join(', ')}) created; it is shown only this once.\nuse it as: export DINGKIT_TOKEN=<the token above>`,
    );
    return EXIT.ok;
  }
  if (sub === 'revoke') {
    const ok = await tokens.revoke(positionals[0]!, new Date().toISOString());
    if (!ok)
      throw new CliError(EXIT.notFound, `no live token named "${positionals[0]!.slice(0, 64)}"`, 'not_found');
    ctx.out.result(
      { revoked: positionals[0] },
      () => `revoked "${positionals[0]}" (a running hub stops accepting it within seconds)`,
    );
    return EXIT.ok;
  }
  const rows = (await tokens.list()).map(({ hash: _hash, ...r }) => r);
  ctx.out.result(rows, () =>
    rows.length === 0
      ? 'no tokens (create one: dingkit token create NAME)'
      : table(
          ['NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
          rows.map((r) => [
            r.name,
            r.scopes.join(','),
            r.createdAt.slice(0, 19),
            r.lastUsedAt?.slice(0, 19) ?? '-',
            r.revokedAt?.slice(0, 19) ?? '-',
          ]),
        ),
  );
  return EXIT.ok;
}

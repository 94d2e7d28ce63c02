/**
 * Adds the app access token to requests that need one, in the place each host expects (docs/dingtalk.md §0.1: query
 * `access_token` on oapi, header `x-acs-dingtalk-access-token` on api; anything else is ignored by DingTalk).
 * A token-invalid answer triggers one refresh and one replay, never a loop (docs/dingtalk.md §1.2).
 */

import { ConfigError, isDingTalkError } from './errors.js';
import type { DingTalkRequest, Middleware } from './pipeline.js';
import type { Redactor } from './redact.js';
import type { TokenManager } from './token-manager.js';

/**
 * `redactor`: each new token value is registered with it, so an answer or error quoting the token is redacted
 * by value too (the token is a credential for two hours).
 */
export function authMiddleware(tokens: TokenManager | undefined, redactor?: Redactor): Middleware {
  let registered: string | undefined;
  const use = (token: string): string => {
    if (token !== registered) {
      redactor?.add(token);
      registered = token;
    }
    return token;
  };
  return async (req, next) => {
    if (req.auth !== 'app') return next(req);
    if (!tokens) throw new ConfigError(`${req.operation} needs an app token: configure appKey and appSecret`);
    const token = use(await tokens.get());
    try {
      return await next(withToken(req, token));
    } catch (e) {
      if (!isDingTalkError(e) || e.code !== 'TOKEN_INVALID') throw e;
      const fresh = use(await tokens.invalidate(token));
      return next(withToken(req, fresh));
    }
  };
}

function withToken(req: DingTalkRequest, token: string): DingTalkRequest {
  if (req.host === 'api') {
    return { ...req, headers: { ...req.headers, 'x-acs-dingtalk-access-token': token } };
  }
  return { ...req, query: { ...req.query, access_token: token } };
}

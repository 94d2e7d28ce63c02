/**
 * Adds the app access token to requests that need one, in the place each host expects (reference §0.1: query
 * `access_token` on oapi, header `x-acs-dingtalk-access-token` on api; anything else is ignored by DingTalk).
 * A token-invalid answer triggers one refresh and one replay, never a loop (reference §1.2).
 */

import { ConfigError, isDingTalkError } from './errors.js';
import type { DingTalkRequest, Middleware } from './pipeline.js';
import type { TokenManager } from './token-manager.js';

export function authMiddleware(tokens: TokenManager | undefined): Middleware {
  return async (req, next) => {
    if (req.auth !== 'app') return next(req);
    if (!tokens) throw new ConfigError(`${req.operation} needs an app token: configure appKey and appSecret`);
    const token = await tokens.get();
    try {
      return await next(withToken(req, token));
    } catch (e) {
      if (!isDingTalkError(e) || e.code !== 'TOKEN_INVALID') throw e;
      const fresh = await tokens.invalidate(token);
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

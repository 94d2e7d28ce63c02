/**
 * The v1.0 host's answer to a path it does not have (§0.1, §12): a GET of a made-up path, read-only.
 */

import { appRateKey } from '../api/shared/response.js';
import { isPlatformError } from '../core/errors.js';
import { madeUp, needApp, refusal, v1Answer } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const unknownRoute: VerifyCheck = {
  id: 'api-unknown-route',
  family: 'api',
  title: 'GET of a made-up /v1.0 path',
  facts: ['api.unknownRoute'],
  skip: needApp,
  async run(env, rec) {
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.unknownRoute',
        rateKey: appRateKey(env.dt.context, 'verify.unknownRoute'),
        host: 'api',
        method: 'GET',
        path: `/v1.0/dingkit-verify/${madeUp(env, 'route').slice(0, 12)}`,
        auth: 'app',
        idempotent: true,
      }),
    );
    if (r === 'accepted') return { failed: 'DingTalk answered 2xx to a made-up path' };
    const value = isPlatformError(r) ? v1Answer(r) : `${r.status} (no DingTalk error body)`;
    rec.observe('api.unknownRoute', value, `answered ${value}`);
    return `answered ${value}`;
  },
};

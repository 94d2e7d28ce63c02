/**
 * A media upload (§6.1), with writes: a 1×1 image no one is shown. DingTalk has no delete for media, so it is always
 * reported as left behind.
 */

import { appRateKey } from '../api/shared/response.js';
import { isPlatformError } from '../core/errors.js';
import { refusal } from './check-support.js';
import type { VerifyCheck } from './types.js';

/** A 1×1 transparent PNG: real image bytes, so DingTalk's type checks have nothing to refuse (§6.1). */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export const media: VerifyCheck = {
  id: 'media-upload',
  family: 'media',
  title: 'a 1×1 image uploaded as media',
  // Invisible, but it creates something that cannot be removed: only in a run that names a target (a write run).
  plan: (env) =>
    !env.group && !env.me
      ? { skip: 'no --group or --me' }
      : env.appKey
        ? { sends: 'one 1×1 PNG uploaded as media (shown to no one; DingTalk has no delete for it)' }
        : { skip: 'no app in the config' },
  async run(env, rec) {
    const fileName = `dingkit-verify-${env.runId}.png`;
    const r = await env.dt.media.upload({ type: 'image', source: PIXEL, fileName });
    rec.created({
      what: `media file ${fileName}`,
      to: 'the app',
      keep: 'DingTalk has no delete for uploaded media (§6)',
    });
    return `uploaded (${r.size} bytes)`;
  },
};

/**
 * The errcode of an upload with a type DingTalk does not take (§6.1, §12: by analogy with the global table's 40005,
 * unverified per API). The library refuses `.exe` before sending, so this goes around it; if DingTalk took it, the
 * result is one more unused media id that no one is shown.
 */
export const mediaBadExtension: VerifyCheck = {
  id: 'media-bad-extension',
  family: 'media',
  title: 'an upload of a type DingTalk does not take (.exe)',
  facts: ['media.badExtensionErrcode'],
  plan: (env) =>
    !env.group && !env.me
      ? { skip: 'no --group or --me' }
      : env.appKey
        ? {
            sends:
              'one 16-byte file named .exe uploaded as media, which DingTalk should refuse (shown to no one)',
          }
        : { skip: 'no app in the config' },
  async run(env, rec) {
    const fileName = `dingkit-verify-${env.runId}.exe`;
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.mediaBadExtension',
        rateKey: appRateKey(env.dt.context, 'media.upload'),
        host: 'oapi',
        method: 'POST',
        path: '/media/upload',
        query: { type: 'file' },
        multipart: {
          fields: { type: 'file' },
          files: [
            {
              field: 'media',
              filename: fileName,
              contentType: 'application/octet-stream',
              data: Buffer.alloc(16, 0x2e),
            },
          ],
        },
        auth: 'app',
        idempotent: true,
      }),
    );
    if (r === 'accepted') {
      rec.created({
        what: `media file ${fileName}`,
        to: 'the app',
        keep: 'DingTalk has no delete for uploaded media (§6)',
      });
      rec.observe('media.badExtensionErrcode', 'accepted', 'an .exe upload was taken');
      return 'DingTalk took an .exe upload';
    }
    if (!isPlatformError(r) || r.errcode === undefined) {
      rec.unobserved('media.badExtensionErrcode', `answered HTTP ${r.status} without an errcode`);
      return { failed: `answered HTTP ${r.status} without an errcode` };
    }
    rec.observe('media.badExtensionErrcode', r.errcode, `refused with errcode ${r.errcode}`);
    return `refused with errcode ${r.errcode}`;
  },
};

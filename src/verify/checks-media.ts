/**
 * A media upload (§6.1), with writes: a 1×1 image no one is shown. DingTalk has no delete for media, so it is always
 * reported as left behind.
 */

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

/**
 * Files: a multipart upload (`file` part plus text fields) handed to the hub's `shareFile`, and the share history.
 * The upload has its own size cap (DingTalk's media limit is 20 MB for files, reference §6.1); the hub checks
 * type and size again against the channel before anything is sent.
 */

import { basename } from 'node:path';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../api-error.js';
import { fileShareFields, limitOnlyQuery } from '../contracts.js';
import { readQuery } from '../http-input.js';
import { type ApiEnv, actorOf, type RouteDeps } from './route-deps.js';

/** Room for the multipart boundaries and text fields around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

export function fileRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  app.post(
    '/v1/files',
    d.guard('send'),
    bodyLimit({
      maxSize: d.fileLimitBytes + MULTIPART_OVERHEAD,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `files are limited to ${d.fileLimitBytes} bytes`);
      },
    }),
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      if (!/^multipart\/form-data\s*;\s*boundary=/i.test(type)) {
        throw new ApiError(415, 'unsupported_media_type', 'upload the file as multipart/form-data');
      }
      let form: FormData;
      try {
        form = await c.req.raw.formData();
      } catch {
        throw new ApiError(400, 'invalid_multipart', 'the multipart body could not be parsed');
      }
      const file = form.getAll('file');
      const part = file[0];
      if (file.length !== 1 || part === undefined || typeof part === 'string') {
        throw new ApiError(400, 'invalid_multipart', 'send exactly one file part named "file"');
      }
      if (part.size === 0) throw new ApiError(400, 'invalid_file', 'the file is empty');
      if (part.size > d.fileLimitBytes) {
        throw new ApiError(413, 'payload_too_large', `files are limited to ${d.fileLimitBytes} bytes`);
      }
      const fields: Record<string, string> = {};
      for (const [k, v] of form.entries()) {
        if (k === 'file') continue;
        if (typeof v !== 'string')
          throw new ApiError(400, 'invalid_multipart', 'only "file" may be a file part');
        if (k in fields)
          throw new ApiError(400, 'invalid_multipart', `field "${k.slice(0, 40)}" is repeated`);
        fields[k] = v;
      }
      const meta = fileShareFields.parse(fields);
      // The part's filename is the sender's local name (drop any directories an old browser sent); a fileName
      // field is taken as given. The hub strips invisible characters and refuses paths (core/file-name.ts).
      const fileName = meta.fileName ?? basename(part.name.replace(/\\/g, '/'));
      const content = Buffer.from(await part.arrayBuffer());
      const share = await d.hub.shareFile(
        {
          group: meta.group,
          to: meta.to,
          via: meta.via,
          comment: meta.comment,
          publicUrl: meta.publicUrl,
          fileName,
          size: content.length,
          content,
        },
        actorOf(c),
      );
      return c.json(share, 202);
    },
  );

  app.get('/v1/files', d.guard('read'), async (c) => {
    const q = readQuery(c, limitOnlyQuery);
    return c.json({ shares: await d.hub.listShares(q.limit ?? 100) });
  });
}

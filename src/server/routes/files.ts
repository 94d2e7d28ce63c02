/**
 * Files: a multipart upload (`file` part plus text fields) handed to the hub's `shareFile`, and the share history.
 *
 * The upload never sits in memory: the body is read as a stream and the file part written to an owner-only
 * temporary file (core/temp-file.ts) as it arrives, the size cap (DingTalk's media limit, 20 MB for files,
 * reference §6.1) enforced while reading, so the first byte over it is a 413 and the rest is not read. The hub
 * then streams that file to DingTalk, and the file is removed once the share is answered, failed or not. At most
 * `maxConcurrentUploads` uploads run at once; one more is a 429 with Retry-After (its body read and dropped, so
 * that the client can read the answer).
 * The hub checks name, type and size again against the channel before anything is sent.
 */

import { join } from 'node:path';
import { basename } from 'node:path/posix';
import type { Context, Hono } from 'hono';
import { makeTempDir, openSink } from '../../core/temp-file.js';
import { ApiError, errorBody } from '../api-error.js';
import { fileShareFields, limitOnlyQuery } from '../contracts.js';
import { readQuery } from '../http-input.js';
import { boundaryOf, readMultipart } from '../multipart-stream.js';
import { type ApiEnv, actorOf, type RouteDeps, withinLimits } from './route-deps.js';

/** Room for the multipart boundaries and text fields around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** Seconds a refused upload is told to wait: an upload of 20 MB on loopback or a LAN takes about that. */
const RETRY_AFTER_S = 2;

export function fileRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  // Uploads in flight on this app (an instance's state, not the module's).
  let active = 0;

  app.post('/v1/files', d.guard('send'), async (c) => {
    if (active >= d.maxConcurrentUploads) {
      // Read and drop the body (no memory, no disk) so that the client, still sending, gets to read the answer:
      // fetch and most clients fail with EPIPE when a server closes on a body it did not read.
      await discard(c.req.raw.body, d.fileLimitBytes + MULTIPART_OVERHEAD);
      return c.json(
        errorBody(
          'too_many_uploads',
          `${d.maxConcurrentUploads} uploads are already in progress; retry in ${RETRY_AFTER_S} s`,
        ),
        429,
        { 'retry-after': String(RETRY_AFTER_S) },
      );
    }
    active++;
    try {
      return await upload(c);
    } finally {
      active--;
    }
  });

  const upload = async (c: Context<ApiEnv>) => {
    const boundary = boundaryOf(c.req.header('content-type') ?? '');
    if (!boundary)
      throw new ApiError(415, 'unsupported_media_type', 'upload the file as multipart/form-data');
    const tooLarge = () =>
      new ApiError(413, 'payload_too_large', `files are limited to ${d.fileLimitBytes} bytes`);
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > d.fileLimitBytes + MULTIPART_OVERHEAD) throw tooLarge();
    const body = c.req.raw.body;
    if (!body) throw new ApiError(400, 'invalid_multipart', 'the body is empty');

    const tmp = await makeTempDir();
    try {
      const filePath = join(tmp.dir, 'upload');
      let sink: Awaited<ReturnType<typeof openSink>> | undefined;
      let parsed: Awaited<ReturnType<typeof readMultipart>>;
      try {
        parsed = await readMultipart(
          body as unknown as AsyncIterable<Uint8Array>,
          boundary,
          { fileField: 'file', maxFileBytes: d.fileLimitBytes },
          async () => {
            sink = await openSink(filePath);
            return sink;
          },
        );
      } finally {
        await sink?.close();
      }
      const part = parsed.file;
      if (!part) throw new ApiError(400, 'invalid_multipart', 'send exactly one file part named "file"');
      if (part.size === 0) throw new ApiError(400, 'invalid_file', 'the file is empty');
      const meta = fileShareFields.parse(parsed.fields);
      await withinLimits(c, d, { groups: meta.group === undefined ? [] : [meta.group], people: meta.to });
      // The part's filename is the sender's local name (drop any directories an old browser sent); a fileName
      // field is taken as given. The hub strips invisible characters and refuses paths (core/file-name.ts).
      const fileName = meta.fileName ?? basename(part.filename.replace(/\\/g, '/'));
      const share = await d.hub.shareFile(
        {
          group: meta.group,
          to: meta.to,
          via: meta.via,
          comment: meta.comment,
          publicUrl: meta.publicUrl,
          fileName,
          size: part.size,
          content: { path: filePath },
        },
        actorOf(c),
      );
      return c.json(share, 202);
    } finally {
      await tmp.remove();
    }
  };

  app.get('/v1/files', d.guard('read'), async (c) => {
    const q = readQuery(c, limitOnlyQuery);
    return c.json({ shares: await d.hub.listShares(q.limit ?? 100) });
  });
}

/** Reads a body to its end without keeping it, up to `max` bytes (beyond that the server closes the connection). */
async function discard(body: ReadableStream<Uint8Array> | null, max: number): Promise<void> {
  if (!body) return;
  let n = 0;
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      n += chunk.length;
      if (n > max) break;
    }
  } catch {
    // A client that gave up: nothing to answer.
  }
}

/**
 * Files: a multipart upload (`file` part plus text fields) handed to the hub's `shareFile`, and the share history.
 *
 * The upload never sits in memory: the body is read as a stream and the file part written to an owner-only
 * temporary file (core/temp-file.ts) as it arrives, the size cap (DingTalk's media limit, 20 MB for files,
 * docs/dingtalk.md §6.1) enforced while reading, so the first byte over it is a 413 and nothing more is written. The hub
 * then streams that file to DingTalk, and the file is removed once the share is answered, failed or not. At most
 * `maxConcurrentUploads` uploads run at once; one more is a 429 with Retry-After.
 * The hub checks name, type and size again against the channel before anything is sent.
 *
 * Every answer, refusals included, is sent only once the body has been read to its end (up to a bound): a
 * client still sending when the server answers and closes fails with EPIPE and never reads the answer, and
 * @hono/node-server closes such a connection 500 ms after the answer unless the rest arrives by then.
 * Every answer also says `Connection: close`. A client's pool keeps the connection of an upload it has finished
 * and hands it to its next request; under load that request is often written seconds later, just as Node's
 * keep-alive timeout (5 s) closes the idle socket, and a 20 MB body then dies with EPIPE (a POST is not retried
 * on another socket). Seen in the upload flood: every EPIPE was a retry after a 429 written into a socket the
 * hub had closed as idle. One TCP handshake per upload costs nothing next to its body.
 */

import { join } from 'node:path';
import { basename } from 'node:path/posix';
import type { Context, Hono, MiddlewareHandler } from 'hono';
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
  // The body of each upload, read through one reader: what the route leaves unread is read after the answer.
  const readers = new WeakMap<Request, ReadableStreamDefaultReader<Uint8Array>>();
  const most = d.fileLimitBytes + MULTIPART_OVERHEAD;
  // A refused body is read (and dropped) up to twice the largest upload accepted, so that a file somewhat over
  // the cap still gets its 413 read.
  const readable = 2 * most;

  // First, before the token check: a 401 or 403 is an early answer too.
  const readToEnd: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const declared = Number(c.req.header('content-length'));
    const reader = c.req.raw.body?.getReader();
    if (reader) readers.set(c.req.raw, reader);
    await next();
    c.header('connection', 'close');
    if (!reader) return;
    // Beyond that bound nothing more is read (a client still sending may then miss the answer, the price of not
    // reading an unbounded body).
    const whole = !(Number.isFinite(declared) && declared > readable) && (await discard(reader, readable));
    if (!whole) reader.cancel().catch(() => {});
  };

  app.post('/v1/files', readToEnd, d.guard('send'), async (c) => {
    if (active >= d.maxConcurrentUploads) {
      // The body is read and dropped by readToEnd (no memory, no disk) before this answer leaves.
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
    if (Number.isFinite(declared) && declared > most) throw tooLarge();
    const reader = readers.get(c.req.raw);
    if (!reader) throw new ApiError(400, 'invalid_multipart', 'the body is empty');

    const tmp = await makeTempDir();
    try {
      const filePath = join(tmp.dir, 'upload');
      let sink: Awaited<ReturnType<typeof openSink>> | undefined;
      let parsed: Awaited<ReturnType<typeof readMultipart>>;
      try {
        parsed = await readMultipart(
          chunksOf(reader),
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

/**
 * The reader's chunks as an iterable without `return()`: a reader that stops early (the closing boundary, a 413)
 * leaves the rest of the body to `discard` instead of cancelling the stream.
 */
function chunksOf(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    }),
  };
}

/**
 * Reads what is left of a body without keeping it, up to `max` bytes. True once the body has ended (or the
 * client gave up), false when it goes on past `max`.
 */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<boolean> {
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      n += value.length;
      if (n > max) return false;
    }
  } catch {
    // A client that gave up: nothing left to read.
    return true;
  }
}

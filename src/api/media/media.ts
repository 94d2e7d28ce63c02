/**
 * Media upload (docs/dingtalk.md §6): `POST oapi /media/upload`, multipart with the file part named `media` and a `type`
 * field (also put in the query, the doc's workaround for clients that drop text fields). The answer's `media_id`
 * feeds app-robot `sampleFile`/`sampleImageMsg`, work-notification `file`/`image` and `chat/send`.
 *
 * Type and size are checked before any I/O: a path is `stat`ed, a Buffer measured, a Readable read into memory up
 * to the type's limit (never more). A path is streamed from disk and reopened if the upload is retried.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ApiContext } from '../../core/context.js';
import { ValidationError } from '../../core/errors.js';
import { cleanFileName } from '../../core/file-name.js';
import type { StreamSource } from '../../core/pipeline.js';
import { extensionOf } from '../robot/app-templates.js';
import {
  appRateKey,
  type CallOptions,
  callFields,
  type Json,
  needString,
  optNumber,
  optString,
} from '../shared/response.js';
import { requireObject } from '../shared/validate.js';
import {
  contentTypeFor,
  DEFAULT_MEDIA_RULES,
  isMediaType,
  type MediaRule,
  type MediaType,
} from './media-limits.js';

export interface MediaOptions {
  /** Per-type overrides of the size and extension rules. */
  rules?: Partial<Record<MediaType, Partial<MediaRule>>>;
}

export interface UploadInput extends CallOptions {
  type: MediaType;
  /** A file path, the bytes, or a stream of them (any Node readable or async iterable of chunks). */
  source: string | Buffer | Uint8Array | Readable | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** Required for Buffer and stream sources; for a path, defaults to its base name. */
  fileName?: string | undefined;
  /** @default derived from the extension */
  contentType?: string | undefined;
}

export interface UploadResult {
  /** Opaque id (`@...`), reusable, does not expire (§6.1). */
  mediaId: string;
  type: string;
  createdAt: number | undefined;
  /** Bytes uploaded. */
  size: number;
  fileName: string;
}

const OP = 'media.upload';

export class Media {
  readonly #ctx: ApiContext;
  readonly #rules: Record<MediaType, MediaRule>;

  constructor(ctx: ApiContext, options: MediaOptions = {}) {
    this.#ctx = ctx;
    const r = options.rules ?? {};
    this.#rules = {
      image: { ...DEFAULT_MEDIA_RULES.image, ...r.image },
      voice: { ...DEFAULT_MEDIA_RULES.voice, ...r.voice },
      video: { ...DEFAULT_MEDIA_RULES.video, ...r.video },
      file: { ...DEFAULT_MEDIA_RULES.file, ...r.file },
    };
  }

  /**
   * Uploads a file and returns its `media_id`.
   * @example
   * const { mediaId } = await dt.media.upload({ type: 'file', source: './report.pdf' });
   * await dt.robot.sendToGroup({ openConversationId, message: appMessage.file(mediaId, 'report.pdf') });
   */
  async upload(input: UploadInput): Promise<UploadResult> {
    requireObject(input, 'input', OP);
    if (!isMediaType(input.type)) {
      throw new ValidationError('must be image, voice, video or file', 'type', { operation: OP });
    }
    const rule = this.#rules[input.type];
    const fileName = resolveName(input);
    const ext = extensionOf(fileName);
    if (!rule.extensions.includes(ext)) {
      throw new ValidationError(
        `".${ext}" is not accepted for ${input.type}; allowed: ${rule.extensions.join(', ')}`,
        'fileName',
        { operation: OP },
      );
    }
    const { data, size } = await loadSource(input.source, rule.maxBytes, input.type);
    if (size === 0) throw new ValidationError('is empty', 'source', { operation: OP });
    const contentType = input.contentType ?? contentTypeFor(ext);
    if (/[\r\n]/.test(contentType) || /[\r\n"]/.test(fileName)) {
      throw new ValidationError('must not contain quotes or line breaks', 'fileName', { operation: OP });
    }
    const res = await this.#ctx.request({
      operation: OP,
      host: 'oapi',
      method: 'POST',
      path: '/media/upload',
      query: { type: input.type },
      multipart: {
        fields: { type: input.type },
        files: [{ field: 'media', filename: fileName, contentType, data }],
      },
      auth: 'app',
      // A repeated upload only creates a second, unused media_id: no effect anyone sees, so retrying is safe.
      idempotent: true,
      rateKey: appRateKey(this.#ctx, OP),
      ...callFields(input),
    });
    const body = res.data as Json;
    return {
      mediaId: needString(body, 'media_id', OP),
      type: optString(body, 'type') ?? input.type,
      createdAt: optNumber(body, 'created_at'),
      size,
      fileName,
    };
  }
}

/** The name DingTalk shows: without controls or bidi characters (core/file-name.ts), so the type check sees it. */
function resolveName(input: UploadInput): string {
  if (input.fileName !== undefined) {
    if (typeof input.fileName !== 'string' || input.fileName.trim() === '') {
      throw new ValidationError('must be a non-empty string', 'fileName', { operation: OP });
    }
    return cleanName(input.fileName);
  }
  if (typeof input.source === 'string') return cleanName(basename(input.source));
  throw new ValidationError('is required when the source is bytes or a stream', 'fileName', {
    operation: OP,
  });
}

async function loadSource(
  source: UploadInput['source'],
  max: number,
  type: MediaType,
): Promise<{ data: Buffer | Uint8Array | StreamSource; size: number }> {
  const tooBig = (n: number | string) =>
    new ValidationError(`is ${n} bytes; a ${type} may be at most ${max}`, 'source', { operation: OP });
  if (typeof source === 'string') {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(source);
    } catch (e) {
      throw new ValidationError(
        `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        'source',
        {
          operation: OP,
        },
      );
    }
    if (!st.isFile()) throw new ValidationError('is not a regular file', 'source', { operation: OP });
    if (st.size > max) throw tooBig(st.size);
    const size = st.size;
    return {
      size,
      data: {
        size,
        // `end` pins the read to the size announced in content-length, even if the file grows meanwhile.
        open: () => createReadStream(source, { start: 0, end: Math.max(0, size - 1) }),
      },
    };
  }
  if (source instanceof Uint8Array) {
    if (source.byteLength > max) throw tooBig(source.byteLength);
    return { data: source, size: source.byteLength };
  }
  if (source instanceof Readable || isAsyncIterable(source)) {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of source as AsyncIterable<unknown>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      n += b.length;
      if (n > max) {
        if (source instanceof Readable) source.destroy();
        throw tooBig(`more than ${max}`);
      }
      chunks.push(b);
    }
    return { data: Buffer.concat(chunks, n), size: n };
  }
  throw new ValidationError('must be a path, a Buffer or a Readable', 'source', { operation: OP });
}

function cleanName(raw: string): string {
  try {
    return cleanFileName(raw);
  } catch (e) {
    throw new ValidationError((e as ValidationError).message.replace(/^fileName: /, ''), 'fileName', {
      operation: OP,
    });
  }
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

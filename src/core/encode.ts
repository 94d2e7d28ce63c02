/** Request encoding: URLs with query strings, JSON bodies, multipart bodies. */

import { randomBytes } from 'node:crypto';
import type { MultipartBody, QueryValue, StreamSource } from './pipeline.js';
import type { StreamBody } from './transport.js';

/** Appends `query` to `path` (which may already carry a query string), skipping undefined values. */
export function withQuery(path: string, query: Record<string, QueryValue> | undefined): string {
  if (!query) return path;
  let out = path;
  let sep = path.includes('?') ? '&' : '?';
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    out += `${sep}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
    sep = '&';
  }
  return out;
}

/**
 * Encodes a multipart/form-data body. When every file is in memory the body is one Buffer; when a file is a
 * `StreamSource` (an upload from a path) the body is streamed, with its exact length computed up front so the
 * request still carries a `content-length` (DingTalk's upload endpoint is not known to accept chunked bodies).
 */
export function encodeMultipart(
  mp: MultipartBody,
  boundary = `----dingkit${randomBytes(12).toString('hex')}`,
): { body: Buffer | StreamBody; contentType: string; length: number } {
  const segments: Array<Buffer | StreamSource> = [];
  for (const [name, value] of Object.entries(mp.fields)) {
    segments.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(name)}"\r\n\r\n${value}\r\n`,
        'utf8',
      ),
    );
  }
  for (const f of mp.files) {
    segments.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(f.field)}"; filename="${quoteName(
          f.filename,
        )}"\r\nContent-Type: ${f.contentType}\r\n\r\n`,
        'utf8',
      ),
      isStreamSource(f.data)
        ? f.data
        : Buffer.isBuffer(f.data)
          ? f.data
          : Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      Buffer.from('\r\n', 'utf8'),
    );
  }
  segments.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  const contentType = `multipart/form-data; boundary=${boundary}`;
  let length = 0;
  for (const s of segments) length += Buffer.isBuffer(s) ? s.length : s.size;
  if (segments.every((s) => Buffer.isBuffer(s))) {
    return { body: Buffer.concat(segments as Buffer[], length), contentType, length };
  }
  const body: StreamBody = {
    length,
    async *open() {
      for (const s of segments) {
        if (Buffer.isBuffer(s)) yield s;
        else yield* s.open();
      }
    },
  };
  return { body, contentType, length };
}

function isStreamSource(d: Buffer | Uint8Array | StreamSource): d is StreamSource {
  return !(d instanceof Uint8Array);
}

// RFC 7578 docs/dingtalk.md §4.2: quotes and line breaks in names are percent-encoded.
function quoteName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

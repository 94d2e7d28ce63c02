/** Request encoding: URLs with query strings, JSON bodies, multipart bodies. */

import { randomBytes } from 'node:crypto';
import type { MultipartBody, QueryValue } from './pipeline.js';

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

/** Encodes a multipart/form-data body. Returns the body and its content type. */
export function encodeMultipart(mp: MultipartBody): { body: Buffer; contentType: string } {
  const boundary = `----dingkit${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(mp.fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(name)}"\r\n\r\n${value}\r\n`,
        'utf8',
      ),
    );
  }
  for (const f of mp.files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(f.field)}"; filename="${quoteName(
          f.filename,
        )}"\r\nContent-Type: ${f.contentType}\r\n\r\n`,
        'utf8',
      ),
      Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      Buffer.from('\r\n', 'utf8'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

// RFC 7578 §4.2: quotes and line breaks in names are percent-encoded.
function quoteName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

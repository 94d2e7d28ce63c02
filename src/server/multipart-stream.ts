/**
 * A streaming reader of one `multipart/form-data` upload (RFC 7578): text fields are kept (small, bounded), the
 * one file part goes straight to a file on disk as its bytes arrive. Memory holds at most one network chunk plus
 * a boundary's length, whatever the size of the file, and the file cap is enforced while reading: the first
 * byte over it is a 413, and the rest of the body is never read.
 *
 * Only what `POST /v1/files` needs: parts named by `Content-Disposition: form-data; name="..."` with an optional
 * `filename` (quoted, with `"` CR LF percent-escaped as the WHATWG form encoder writes them, or `filename*` in
 * RFC 5987 form); other part headers are ignored.
 */

import type { FileSink } from '../core/temp-file.js';
import { ApiError } from './api-error.js';

interface MultipartLimits {
  /** Name of the one file part. */
  fileField: string;
  /** Largest file part, in bytes (413 beyond). */
  maxFileBytes: number;
  /** All text fields together, in bytes. @default 64 KiB */
  maxFieldBytes?: number;
  /** Headers of one part. @default 8 KiB */
  maxHeaderBytes?: number;
}

interface MultipartResult {
  fields: Record<string, string>;
  /** The file part, when there was one: its declared name and the bytes written to the sink. */
  file: { filename: string; size: number } | undefined;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** The boundary of a `multipart/form-data` content type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/**
 * Reads the body, writing the file part to the sink `openFile` returns (called at most once). Throws ApiError:
 * 400 for a malformed body (or a second file part, or a repeated field), 413 as soon as a limit is passed.
 */
export async function readMultipart(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  limits: MultipartLimits,
  openFile: () => Promise<FileSink>,
): Promise<MultipartResult> {
  const maxField = limits.maxFieldBytes ?? 64 * 1024;
  const maxHeader = limits.maxHeaderBytes ?? 8 * 1024;
  // Every delimiter, the first one included, is CRLF "--" boundary: a CRLF is put in front of the body for that.
  const delim = Buffer.from(`\r\n--${boundary}`);
  const keep = delim.length - 1;
  const bad = (why: string) => new ApiError(400, 'invalid_multipart', why);

  const fields: Record<string, string> = {};
  let fieldBytes = 0;
  let file: MultipartResult['file'];
  let sink: FileSink | undefined;

  type State = 'preamble' | 'after-delim' | 'headers' | 'body' | 'done';
  let state = 'preamble' as State;
  let buf: Buffer = Buffer.from(CRLF);
  let preamble = 0;
  /** The part being read: a text field (its chunks) or the file (bytes go to the sink). */
  let part: { name: string; text: Buffer[] | undefined } | undefined;

  const emit = async (bytes: Buffer) => {
    if (bytes.length === 0 || !part) return;
    if (part.text) {
      fieldBytes += bytes.length;
      if (fieldBytes > maxField)
        throw new ApiError(413, 'payload_too_large', 'the text fields are too large');
      part.text.push(bytes);
      return;
    }
    if (sink!.size + bytes.length > limits.maxFileBytes) {
      throw new ApiError(413, 'payload_too_large', `files are limited to ${limits.maxFileBytes} bytes`);
    }
    await sink!.write(bytes);
  };

  const endPart = () => {
    if (!part) return;
    if (part.text) {
      if (part.name in fields) throw bad(`field "${part.name.slice(0, 40)}" is repeated`);
      fields[part.name] = Buffer.concat(part.text).toString('utf8');
    } else if (file) {
      file.size = sink!.size;
    }
    part = undefined;
  };

  const startPart = async (head: string) => {
    let disposition: string | undefined;
    for (const line of head.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && line.slice(0, i).trim().toLowerCase() === 'content-disposition') {
        disposition = line.slice(i + 1).trim();
      }
    }
    if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) {
      throw bad('each part needs Content-Disposition: form-data');
    }
    const name = param(disposition, 'name');
    if (name === undefined || name === '') throw bad('each part needs a name');
    const filename = extParam(disposition, 'filename') ?? param(disposition, 'filename');
    if (filename === undefined) {
      if (name === limits.fileField) throw bad(`"${limits.fileField}" must be a file part`);
      part = { name, text: [] };
      return;
    }
    if (name !== limits.fileField) throw bad(`only "${limits.fileField}" may be a file part`);
    if (file) throw bad(`send exactly one file part named "${limits.fileField}"`);
    sink = await openFile();
    file = { filename, size: 0 };
    part = { name, text: undefined };
  };

  const step = async (): Promise<boolean> => {
    switch (state) {
      case 'preamble': {
        const at = buf.indexOf(delim);
        if (at < 0) {
          preamble += Math.max(0, buf.length - keep);
          if (preamble > maxHeader) throw bad('no multipart boundary where one was expected');
          buf = buf.subarray(Math.max(0, buf.length - keep));
          return false;
        }
        buf = buf.subarray(at + delim.length);
        state = 'after-delim';
        return true;
      }
      case 'after-delim': {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'done';
          return false;
        }
        // Transport padding (spaces, tabs) may sit before the CRLF (RFC 2046 docs/dingtalk.md §5.1.1).
        let i = 0;
        while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
        if (buf.length < i + 2) return false;
        if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) throw bad('malformed multipart boundary line');
        buf = buf.subarray(i + 2);
        state = 'headers';
        return true;
      }
      case 'headers': {
        // The part may have no headers at all, in which case its CRLF CRLF starts right away.
        const at = buf.subarray(0, 2).equals(CRLF) ? -2 : buf.indexOf(HEADER_END);
        if (at === -1) {
          if (buf.length > maxHeader) throw bad('part headers are too large');
          return false;
        }
        const head = at === -2 ? '' : buf.subarray(0, at).toString('utf8');
        buf = buf.subarray(at === -2 ? 2 : at + HEADER_END.length);
        await startPart(head);
        state = 'body';
        return true;
      }
      case 'body': {
        const at = buf.indexOf(delim);
        if (at < 0) {
          const n = Math.max(0, buf.length - keep);
          await emit(buf.subarray(0, n));
          buf = buf.subarray(n);
          return false;
        }
        await emit(buf.subarray(0, at));
        endPart();
        buf = buf.subarray(at + delim.length);
        state = 'after-delim';
        return true;
      }
      case 'done':
        return false;
    }
  };

  for await (const chunk of body) {
    // Only the unread tail (shorter than a boundary) is copied with each chunk.
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    while (await step()) {}
    if (state === 'done') break;
  }
  if (state !== 'done') throw bad('the multipart body ended before its closing boundary');
  return { fields, file };
}

/** A quoted or bare parameter of a header value; `name=` must not match inside `filename=`. */
function param(header: string, key: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s"]*))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  if (m[1] !== undefined) {
    // The WHATWG encoder escapes `"` CR LF as %22 %0D %0A; older clients backslash-escape.
    return m[1].replace(/\\(.)/g, '$1').replace(/%22/gi, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');
  }
  return m[2];
}

/** `filename*=UTF-8''...` (RFC 5987), when given; it wins over the plain form. */
function extParam(header: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${key}\\*\\s*=\\s*UTF-8''([^;\\s]*)`, 'i').exec(header);
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

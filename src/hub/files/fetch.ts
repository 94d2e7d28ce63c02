/**
 * "Share this URL's file": fetches it as a stream for `shareFile` (the CLI's `file share --url`). The hub fetches
 * only what it was asked to, with limits: http(s) only, a timeout, and a byte cap checked against
 * `content-length` before reading and enforced while streaming, so an endless or oversize body is refused
 * (files.ts spools it to a temporary file and stops reading at the cap).
 */

import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { DingTalkError, ValidationError } from '../../core/errors.js';

export interface FetchedFile {
  content: Readable;
  fileName: string;
  /** From `content-length`, when the server sent one. */
  size: number | undefined;
}

export interface FetchFileOptions {
  /** Refuse bodies over this many bytes. @default 20 MB (docs/dingtalk.md §6.1) */
  maxBytes?: number;
  /** @default 30_000 */
  timeoutMs?: number;
  /** Name to share under; default: from `content-disposition`, else the URL path. */
  fileName?: string;
}

export async function fetchFile(url: string, o: FetchFileOptions = {}): Promise<FetchedFile> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValidationError('not a URL', 'url');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ValidationError('http or https only', 'url');
  const max = o.maxBytes ?? 20 * 1024 * 1024;
  const timeout = o.timeoutMs ?? 30_000;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    // undici's `request` follows no redirects: a redirect is an error status here, not a hop elsewhere.
    res = await request(u, { method: 'GET', headersTimeout: timeout, bodyTimeout: timeout });
  } catch (e) {
    throw new DingTalkError('FETCH_FAILED', `cannot fetch the file: ${(e as Error).message}`, {
      outcome: 'not_sent',
    });
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    discard(res.body);
    throw new ValidationError(`the URL answered HTTP ${res.statusCode}; nothing was sent`, 'url');
  }
  const len = Number(res.headers['content-length']);
  const size = Number.isFinite(len) && len >= 0 ? len : undefined;
  if (size !== undefined && size > max) {
    discard(res.body);
    throw new ValidationError(`the file is ${size} bytes, over the ${max} allowed; nothing was sent`, 'url');
  }
  return { content: res.body, fileName: o.fileName ?? nameOf(res.headers['content-disposition'], u), size };
}

function nameOf(disposition: string | string[] | undefined, u: URL): string {
  const d = Array.isArray(disposition) ? disposition[0] : disposition;
  const star = d ? /filename\*=UTF-8''([^;]+)/i.exec(d) : null;
  if (star?.[1]) return safeName(decodeURIComponent(star[1]));
  const plain = d ? /filename="?([^";]+)"?/i.exec(d) : null;
  if (plain?.[1]) return safeName(plain[1]);
  return safeName(decodeURIComponent(basename(u.pathname)) || 'download');
}

/** Only the last path segment, so a server cannot name a file `../../x`. */
function safeName(n: string): string {
  return basename(n.replace(/\\/g, '/')).trim() || 'download';
}

/** Drops a body we will not read; its abort error is expected, not a crash. */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

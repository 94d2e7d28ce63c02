/**
 * Reading the signed inputs of an encrypted event push exactly as received: the
 * query's signature, timestamp and nonce strings and the body's `encrypt` string. Nothing is re-serialised;
 * a parameter given twice is ambiguous and rejected rather than guessed.
 */

import { SignatureError } from '../core/errors.js';

/** A parsed query string: `URLSearchParams`, or a Node/Express-style record where repeats become arrays. */
export type CallbackQuery =
  | URLSearchParams
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The body of a push: raw bytes or text (JSON), or an object a framework has already parsed. */
export type CallbackBody = string | Uint8Array | Readonly<Record<string, unknown>>;

interface SignedParams {
  signature: string;
  timestamp: string;
  nonce: string;
}

/**
 * Parameter names in order of preference (docs/dingtalk.md §9b): current docs use `msg_signature` and `timestamp`; older
 * libraries use `signature` and `timeStamp`. The first name present wins, so a sender that adds an unrelated
 * `signature` next to `msg_signature` is still read correctly.
 */
const SIGNATURE_NAMES = ['msg_signature', 'signature'] as const;
const TIMESTAMP_NAMES = ['timestamp', 'timeStamp'] as const;
const NONCE_NAMES = ['nonce'] as const;

export function readSignedParams(query: CallbackQuery): SignedParams {
  return {
    signature: pick(query, SIGNATURE_NAMES, 'signature'),
    timestamp: pick(query, TIMESTAMP_NAMES, 'timestamp'),
    nonce: pick(query, NONCE_NAMES, 'nonce'),
  };
}

function pick(query: CallbackQuery, names: readonly string[], label: string): string {
  for (const name of names) {
    const found = valuesOf(query, name);
    if (found.length === 0) continue;
    if (found.length > 1) throw new SignatureError('malformed', `query parameter ${label} is repeated`);
    const value = found[0]!;
    if (value === '') throw new SignatureError('missing', `query parameter ${label} is empty`);
    return value;
  }
  throw new SignatureError('missing', `query parameter ${label} is missing`);
}

function valuesOf(query: CallbackQuery, name: string): string[] {
  if (query instanceof URLSearchParams) return query.getAll(name);
  if (!Object.hasOwn(query, name)) return [];
  const v = (query as Record<string, unknown>)[name];
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return v;
  throw new SignatureError('malformed', `query parameter ${name} is not a string`);
}

// Catches a JSON body that names `encrypt` twice, where JSON.parse would silently keep the last one.
const ENCRYPT_KEY = /"encrypt"\s*:/g;

/** The `encrypt` string of a push body, exactly as it appears in the JSON. */
export function readEncrypt(body: CallbackBody): string {
  let parsed: unknown;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : decodeUtf8(body);
    if ((text.match(ENCRYPT_KEY)?.length ?? 0) > 1) {
      throw new SignatureError('malformed', 'body names encrypt more than once');
    }
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SignatureError('malformed', 'body is not JSON');
    }
  } else {
    parsed = body;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SignatureError('malformed', 'body is not a JSON object');
  }
  const encrypt = (parsed as Record<string, unknown>)['encrypt'];
  if (encrypt === undefined || encrypt === '')
    throw new SignatureError('missing', 'body has no encrypt field');
  if (typeof encrypt !== 'string')
    throw new SignatureError('malformed', 'body encrypt field is not a string');
  return encrypt;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SignatureError('malformed', 'body is not valid UTF-8');
  }
}

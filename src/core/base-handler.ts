/**
 * The innermost handler: turns a `DingTalkRequest` into bytes on the wire and DingTalk's answer into either a
 * `DingTalkResponse` or a typed error. It applies each host's rules (docs/dingtalk.md §0.1): oapi answers HTTP 200
 * even on failure, with a non-zero `errcode`; api answers an HTTP status with `{code, message, requestid}`.
 */

import { encodeMultipart, withQuery } from './encode.js';
import { DingTalkError, ValidationError } from './errors.js';
import type { DingTalkRequest, DingTalkResponse, Handler } from './pipeline.js';
import { foreignAnswerError, legacyError, type ResolvedErrorMap, v1Error } from './platform-errors.js';
import type { RawRequest, Transport } from './transport.js';

interface BaseHandlerOptions {
  transport: Transport;
  oapiBase: string;
  apiBase: string;
  timeoutMs: number;
  maxResponseBytes: number;
  errors: ResolvedErrorMap;
  userAgent: string;
}

interface Origin {
  origin: string;
  prefix: string;
}

export function createBaseHandler(o: BaseHandlerOptions): Handler {
  const oapi = splitBase(o.oapiBase);
  const api = splitBase(o.apiBase);

  return async (req: DingTalkRequest): Promise<DingTalkResponse> => {
    const raw = toRaw(req, req.host === 'oapi' ? oapi : req.host === 'api' ? api : undefined, o);
    const res = await o.transport(raw);
    return interpret(req, res.status, res.headers, res.body, o.errors);
  };
}

function splitBase(base: string): Origin {
  const u = new URL(base);
  return { origin: u.origin, prefix: u.pathname.replace(/\/+$/, '') };
}

function toRaw(req: DingTalkRequest, base: Origin | undefined, o: BaseHandlerOptions): RawRequest {
  let origin: string;
  let path: string;
  if (base) {
    origin = base.origin;
    path = base.prefix + req.path;
  } else {
    let u: URL;
    try {
      u = new URL(req.path);
    } catch {
      throw new ValidationError('not an absolute URL', 'path', { operation: req.operation });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ValidationError('only http and https URLs are allowed', 'path', { operation: req.operation });
    }
    origin = u.origin;
    path = u.pathname + u.search;
  }
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': o.userAgent,
    ...req.headers,
  };
  let body: RawRequest['body'];
  if (req.multipart) {
    const mp = encodeMultipart(req.multipart);
    body = mp.body;
    headers['content-type'] = mp.contentType;
    headers['content-length'] = String(mp.length);
  } else if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  return {
    origin,
    path: withQuery(path, req.query),
    method: req.method,
    headers,
    body,
    timeoutMs: req.timeoutMs ?? o.timeoutMs,
    maxResponseBytes: o.maxResponseBytes,
    signal: req.signal,
    operation: req.operation,
  };
}

function interpret(
  req: DingTalkRequest,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  errors: ResolvedErrorMap,
): DingTalkResponse {
  const requestId =
    headers['x-acs-request-id'] ?? headers['x-dingtalk-trace-id'] ?? headers['x-acs-trace-id'] ?? undefined;
  const ctx = {
    operation: req.operation,
    status,
    requestId,
    retryAfterHeader: headers['retry-after'],
    isWebhook: req.host !== 'api' && req.auth === 'none',
  };
  const text = body.length === 0 ? '' : body.toString('utf8');
  let data: unknown;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
    // v1.0 DELETE/PUT may legitimately answer 200/204 with an empty body.
    if (status >= 200 && status < 300 && text.length === 0 && req.host === 'api') {
      return { status, headers, data: {}, requestId };
    }
    throw foreignAnswerError(ctx, text);
  }
  const obj = data as Record<string, unknown>;
  // The per-IP ban (docs/dingtalk.md §0.2) is JSON too, on any host and status: `{"status":1111,"punish":"deny",...}`.
  if (obj['punish'] !== undefined || obj['status'] === 1111) throw foreignAnswerError(ctx, text);
  const bodyRequestId =
    typeof obj['requestid'] === 'string'
      ? obj['requestid']
      : typeof obj['request_id'] === 'string'
        ? obj['request_id']
        : typeof obj['requestId'] === 'string'
          ? obj['requestId']
          : undefined;
  const rid = bodyRequestId ?? requestId;
  const errcode = obj['errcode'];
  if (errcode !== undefined && errcode !== 0 && errcode !== '0') {
    const n = typeof errcode === 'number' ? errcode : Number(errcode);
    if (!Number.isFinite(n)) {
      throw new DingTalkError('BAD_RESPONSE', `${req.operation}: errcode is not a number`, {
        operation: req.operation,
        outcome: 'unknown',
      });
    }
    throw legacyError(
      errors,
      { ...ctx, requestId: rid },
      n,
      String(obj['errmsg'] ?? ''),
      obj['sub_code'] === undefined ? undefined : String(obj['sub_code']),
      obj['sub_msg'] === undefined ? undefined : String(obj['sub_msg']),
    );
  }
  if (status < 200 || status >= 300) {
    if (typeof obj['code'] === 'string') {
      throw v1Error(errors, { ...ctx, requestId: rid }, obj['code'], String(obj['message'] ?? ''));
    }
    throw foreignAnswerError({ ...ctx, requestId: rid }, text);
  }
  return { status, headers, data: obj, requestId: rid };
}

/**
 * Request context and answer shapes of the emulator's two hosts (docs/dingtalk.md §0.1):
 * oapi answers HTTP 200 with `errcode` (`topapi` adds `request_id` and wraps auth errors as 88 + `sub_code`);
 * api answers the HTTP status with `{ code, message, requestid }`.
 */
import type { IncomingMessage } from 'node:http';
import type { EmulatorState } from './state.js';
import type { FaultKind, MessageRecord } from './types.js';

export interface Reply {
  status: number;
  /** An object is sent as JSON; a string as is (with `contentType`). */
  body: unknown;
  contentType?: string;
  /** Extra response headers (values must be header-safe: no CR, LF or NUL). */
  headers?: Record<string, string>;
  /** Legacy errcode or v1.0 code, for the request log. */
  code?: number | string;
}

export interface Ctx {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Record<string, string>;
  readonly raw: Buffer;
  readonly state: EmulatorState;
  readonly seq: number;
  /** Remote IPv4 (IPv4-mapped IPv6 is unwrapped). */
  readonly ip: string;
  /** The emulator's origin, e.g. `http://127.0.0.1:41234` (for URLs it hands out). */
  readonly origin: string;
  /** The fault already decided for this request, so records created by the handler carry it. */
  fault: FaultKind | undefined;
  /** Set by handlers: the robot the request is for (fault rules filter on it) and the message it created. */
  robot: string | undefined;
  message: MessageRecord | undefined;
  json(): unknown;
  /** Form fields (urlencoded body) merged under JSON body fields for legacy routes. */
  field(name: string): unknown;
}

const NOT_PARSED = Symbol('not parsed');

export function makeCtx(
  init: Omit<Ctx, 'json' | 'field' | 'fault' | 'robot' | 'message'> & { contentType: string },
): Ctx {
  let parsed: unknown = NOT_PARSED;
  let form: URLSearchParams | undefined;
  const json = (): unknown => {
    if (parsed !== NOT_PARSED) return parsed;
    parsed = undefined;
    if (init.raw.length > 0 && !init.contentType.includes('x-www-form-urlencoded')) {
      try {
        parsed = JSON.parse(init.raw.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
    return parsed;
  };
  return {
    req: init.req,
    method: init.method,
    path: init.path,
    query: init.query,
    params: init.params,
    raw: init.raw,
    state: init.state,
    seq: init.seq,
    ip: init.ip,
    origin: init.origin,
    fault: undefined,
    robot: undefined,
    message: undefined,
    json,
    field(name) {
      const j = json();
      if (isObject(j) && j[name] !== undefined) return j[name];
      if (init.contentType.includes('x-www-form-urlencoded')) {
        form ??= new URLSearchParams(init.raw.toString('utf8'));
        const v = form.get(name);
        if (v !== null) return v;
      }
      return undefined;
    },
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function requestId(ctx: Ctx): string {
  return `emu${ctx.seq.toString(16).padStart(8, '0')}`;
}

/** oapi success: HTTP 200 `{errcode:0, errmsg:'ok', ...extra}`. */
export function oapiOk(extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: { errcode: 0, errmsg: 'ok', ...extra }, code: 0 };
}

/** oapi failure: still HTTP 200 (§0.1). */
export function oapiErr(errcode: number, errmsg: string, extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: { errcode, errmsg, ...extra }, code: errcode };
}

/** topapi success: payload under `result`, plus `request_id` (§0.1). */
export function topapiOk(ctx: Ctx, result: unknown, extra: Record<string, unknown> = {}): Reply {
  return {
    status: 200,
    body: { errcode: 0, errmsg: 'ok', result, ...extra, request_id: requestId(ctx) },
    code: 0,
  };
}

export function topapiErr(ctx: Ctx, errcode: number, errmsg: string): Reply {
  return { status: 200, body: { errcode, errmsg, request_id: requestId(ctx) }, code: errcode };
}

/** v1.0 failure: HTTP status + `{code, message, requestid}` (lower-case `requestid`, §0.1). */
export function apiErr(ctx: Ctx, status: number, code: string, message: string): Reply {
  return { status, body: { code, message, requestid: requestId(ctx) }, code };
}

export function apiOk(body: unknown): Reply {
  return { status: 200, body, code: '' };
}

/** Control-API answers: plain JSON, 4xx `{error}` on bad input. */
export function ctlOk(body: unknown, status = 200): Reply {
  return { status, body };
}

export function ctlErr(status: number, error: string): Reply {
  return { status, body: { error }, code: error };
}

// ---- small field readers used by every route: they never throw ----

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

export function nonEmpty(v: unknown): string | undefined {
  const s = str(v);
  return s !== undefined && s.trim() !== '' ? s : undefined;
}

export function strArray(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) {
    if (typeof x !== 'string') return undefined;
    out.push(x);
  }
  return out;
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * The one request path. Every DingTalk call, on either host, is a `DingTalkRequest` handed to a `Handler`.
 * Cross-cutting behaviour (access tokens, retries, rate limits, logging, test fakes) is a `Middleware` that wraps
 * the next handler, the way octokit's plugins wrap its request hook. The innermost handler is the transport,
 * which knows nothing of tokens, retries or limits.
 */

/** `oapi` = legacy https://oapi.dingtalk.com, `api` = v1.0 https://api.dingtalk.com, `url` = absolute URL. */
export type Host = 'oapi' | 'api' | 'url';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;

/**
 * File contents read when the request is sent, once per attempt: a retry opens the source again instead of
 * replaying a consumed stream. `size` must be exact; it becomes part of the `content-length`.
 */
export interface StreamSource {
  size: number;
  open(): AsyncIterable<Uint8Array>;
}

/** A file part of a multipart body. */
export interface MultipartFile {
  /** Field name, e.g. `media` for /media/upload. */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer | Uint8Array | StreamSource;
}

export interface MultipartBody {
  fields: Record<string, string>;
  files: MultipartFile[];
}

export interface DingTalkRequest {
  /** Stable operation name used in errors, logs and limiter keys, e.g. `robot.groupSend`. */
  operation: string;
  host: Host;
  method: HttpMethod;
  /** Path on the host (`/v1.0/...`), or the absolute URL when `host` is `url`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body. */
  body?: unknown;
  /** Multipart body (mutually exclusive with `body`). */
  multipart?: MultipartBody;
  headers?: Record<string, string>;
  /**
   * `app`: the token middleware adds the app access token (query on oapi, header on api).
   * `none`: no app token (token endpoints, custom-robot webhooks, session webhooks).
   */
  auth: 'app' | 'none';
  /** True when repeating the request cannot cause a second effect (reads, deletes by id, keyed sends). */
  idempotent: boolean;
  /** Limiter key, e.g. `webhook:ops-alerts`; absent = no local limit. */
  rateKey?: string;
  /**
   * Budget for `rateKey` carried by the request (e.g. a robot configured with its own budget). A client-level
   * `rateLimit.overrides[key]` still wins; without either, the defaults for the key's prefix apply.
   */
  rateBudget?: { limit: number; windowMs: number };
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Credentials this one request carries besides the client's own (a one-time sign-in code, a user's token):
   * redacted by value from its errors just above the transport, so no layer, log line or caller sees them. They are
   * not kept after the call (the client's redactor would grow with every person who signs in).
   */
  redact?: readonly string[];
}

export interface DingTalkResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (platform errors already turned into thrown errors). */
  data: T;
  requestId: string | undefined;
}

export type Handler = (req: DingTalkRequest) => Promise<DingTalkResponse>;

export type Middleware = (req: DingTalkRequest, next: Handler) => Promise<DingTalkResponse>;

/** Wraps `inner` so that `middlewares[0]` runs first (outermost). */
export function compose(middlewares: readonly Middleware[], inner: Handler): Handler {
  let handler = inner;
  for (let i = middlewares.length - 1; i >= 0; i--) {
    const mw = middlewares[i]!;
    const next = handler;
    handler = (req) => mw(req, next);
  }
  return handler;
}

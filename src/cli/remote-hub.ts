/**
 * The hub's service contract over its HTTP API, for the CLI talking to a running hub (`DINGKIT_URL`,
 * `DINGKIT_TOKEN`). API refusals come back as `HubApiError` with the status and the server's `{code, message}`,
 * which the CLI maps to exit codes. Uploads are streamed as multipart with a byte counter for the progress bar.
 */

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { HookRequestView, HookRoutesService, HookRouteView } from '../hub/gateways/overview.js';
import type {
  Actor,
  Delivery,
  DeliveryDetail,
  DeliveryEvidence,
  DeliveryStatus,
  FileShare,
  FileShareInput,
  HealthReport,
  HubService,
  Person,
  ResolveAction,
  ResolveResult,
  SendMessageInput,
  SendResult,
  Task,
  TaskFilter,
  TaskInput,
  TaskPatch,
} from '../hub/service.js';

export class HubApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The hub could not be reached at all (refused, DNS, timeout). */
export class HubUnreachableError extends Error {}

interface RemoteHubOptions {
  /** Per request, except uploads and streams. @default 30_000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class RemoteHub implements HubService {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, token: string | undefined, o: RemoteHubOptions = {}) {
    // The banner prints the API as `<origin>/v1`; accept that as the base too.
    this.#base = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.#token = token;
    this.#timeoutMs = o.timeoutMs ?? 30_000;
    this.#fetch = o.fetch ?? fetch;
  }

  get url(): string {
    return this.#base;
  }

  async #call<T>(
    method: string,
    path: string,
    o: {
      json?: unknown;
      headers?: Record<string, string>;
      body?: string | ReadableStream<Uint8Array>;
      timeout?: boolean;
    } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    let body = o.body;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        ...(o.timeout === false ? {} : { signal: AbortSignal.timeout(this.#timeoutMs) }),
      } as RequestInit);
    } catch (e) {
      const c = (e as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (e as Error).name;
      throw new HubUnreachableError(`no hub answered at ${this.#base} (${cause})`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      throw new HubApiError(
        res.status,
        typeof err?.code === 'string' ? err.code : `http_${res.status}`,
        typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`,
      );
    }
    return parsed as T;
  }

  sendMessage(input: SendMessageInput, _actor: Actor): Promise<SendResult> {
    const { idempotencyKey, ...body } = input;
    return this.#call('POST', '/v1/messages', {
      json: body,
      ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
    });
  }

  async getMessage(messageId: string): Promise<SendResult | undefined> {
    return this.#orUndefined(() =>
      this.#call<SendResult>('GET', `/v1/messages/${encodeURIComponent(messageId)}`),
    );
  }

  assignTask(input: TaskInput, _actor: Actor): Promise<Task> {
    const { idempotencyKey, ...body } = input;
    return this.#call('POST', '/v1/tasks', {
      json: body,
      ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
    });
  }

  async getTask(id: number): Promise<Task | undefined> {
    return this.#orUndefined(() => this.#call<Task>('GET', `/v1/tasks/${id}`));
  }

  async listTasks(filter: TaskFilter): Promise<Task[]> {
    const q = query({
      state: filter.state,
      assignee: filter.assignee,
      group: filter.group,
      overdue: filter.overdue === undefined ? undefined : String(filter.overdue),
      limit: filter.limit === undefined ? undefined : String(filter.limit),
    });
    return (await this.#call<{ tasks: Task[] }>('GET', `/v1/tasks${q}`)).tasks;
  }

  actOnTask(
    id: number,
    action: 'start' | 'done' | 'cancel' | 'reopen',
    _actor: Actor,
    note?: string,
  ): Promise<Task> {
    return this.#call('POST', `/v1/tasks/${id}/${action}`, { json: note === undefined ? {} : { note } });
  }

  updateTask(id: number, patch: TaskPatch, _actor: Actor): Promise<Task> {
    return this.#call('PATCH', `/v1/tasks/${id}`, { json: patch });
  }

  shareFile(input: FileShareInput, _actor: Actor): Promise<FileShare> {
    return this.shareFileWithProgress(input);
  }

  /** Streams the upload; `onBytes` is called with the running count of file bytes sent. */
  async shareFileWithProgress(input: FileShareInput, onBytes?: (sent: number) => void): Promise<FileShare> {
    const boundary = `dingkit-${randomBytes(12).toString('hex')}`;
    const fields: Record<string, string | undefined> = {
      group: input.group,
      to: input.to?.join(','),
      via: input.via,
      comment: input.comment,
      publicUrl: input.publicUrl,
      fileName: input.fileName,
    };
    let head = '';
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    }
    const safeName = input.fileName.replace(/["\r\n\\]/g, '_');
    head +=
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n';
    const tail = `\r\n--${boundary}--\r\n`;
    const c = input.content;
    const source = Buffer.isBuffer(c)
      ? Readable.from([c])
      : 'path' in c && typeof c.path === 'string'
        ? createReadStream(c.path)
        : (c as NodeJS.ReadableStream);
    async function* parts(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(head, 'utf8');
      let sent = 0;
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        sent += b.length;
        onBytes?.(sent);
        yield b;
      }
      yield Buffer.from(tail, 'utf8');
    }
    const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    if (input.size !== undefined) {
      headers['content-length'] = String(Buffer.byteLength(head) + input.size + Buffer.byteLength(tail));
    }
    return this.#call('POST', '/v1/files', {
      headers,
      body: Readable.toWeb(Readable.from(parts())) as ReadableStream<Uint8Array>,
      timeout: false,
    });
  }

  async listShares(limit?: number): Promise<FileShare[]> {
    const q = query({ limit: limit === undefined ? undefined : String(limit) });
    return (await this.#call<{ shares: FileShare[] }>('GET', `/v1/files${q}`)).shares;
  }

  async listDeliveries(filter: {
    status?: DeliveryStatus | undefined;
    dropped?: boolean | undefined;
    limit?: number | undefined;
  }): Promise<Delivery[]> {
    const q = query({
      status: filter.status,
      dropped: filter.dropped ? 'true' : undefined,
      limit: filter.limit === undefined ? undefined : String(filter.limit),
    });
    return (await this.#call<{ deliveries: Delivery[] }>('GET', `/v1/deliveries${q}`)).deliveries;
  }

  /** The API answers one delivery with its evidence, a superset of the detail. */
  async getDelivery(id: string): Promise<DeliveryDetail | undefined> {
    return this.deliveryEvidence(id);
  }

  async redrive(ids: readonly string[] | 'all-dead', _actor: Actor): Promise<number> {
    const json = ids === 'all-dead' ? { allDead: true } : { ids };
    return (await this.#call<{ moved: number }>('POST', '/v1/deliveries/redrive', { json })).moved;
  }

  async deliveryEvidence(id: string): Promise<DeliveryEvidence | undefined> {
    return this.#orUndefined(() =>
      this.#call<DeliveryEvidence>('GET', `/v1/deliveries/${encodeURIComponent(id)}`),
    );
  }

  /** A 409 (someone resolved it first) comes back as a HubApiError whose message names the decision that stands. */
  async resolveDelivery(
    id: string,
    action: ResolveAction,
    _actor: Actor,
    note?: string,
  ): Promise<ResolveResult | undefined> {
    return this.#orUndefined(() =>
      this.#call<ResolveResult>('POST', `/v1/deliveries/${encodeURIComponent(id)}/resolve`, {
        json: { action, ...(note !== undefined ? { note } : {}) },
      }),
    );
  }

  /** `GET /v1/hooks`, `GET /v1/hooks/{name}/requests` (read scope). */
  readonly hookRoutes: HookRoutesService = {
    list: async (recent) =>
      (await this.#call<{ routes: HookRouteView[] }>('GET', `/v1/hooks${query({ recent: String(recent) })}`))
        .routes,
    request: async (route, key) => {
      try {
        return await this.#call<HookRequestView>(
          'GET',
          `/v1/hooks/${encodeURIComponent(route)}/requests${query({ key })}`,
        );
      } catch (e) {
        if (e instanceof HubApiError && e.status === 404 && e.code === 'not_found') return undefined;
        throw e;
      }
    },
  };

  async listPeople(): Promise<Person[]> {
    return (await this.#call<{ people: Person[] }>('GET', '/v1/people')).people;
  }

  async health(): Promise<HealthReport> {
    try {
      return await this.#call<HealthReport>('GET', '/v1/health');
    } catch (e) {
      // 503 still carries the report.
      if (e instanceof HubApiError && e.status === 503) return { ...(await this.#rawHealth()), ok: false };
      throw e;
    }
  }

  async #rawHealth(): Promise<HealthReport> {
    const res = await this.#fetch(`${this.#base}/v1/health`, {
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    return (await res.json()) as HealthReport;
  }

  async #orUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HubApiError && e.status === 404 && e.code === 'not_found') return undefined;
      throw e;
    }
  }
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

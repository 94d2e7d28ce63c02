/**
 * The corpus of malformed HTTP API requests (src/server/bad-input.test.ts): each generator produces requests
 * that are wrong by construction — a wrong type, a missing or unknown field, a string over its bound, broken JSON,
 * a wrong content type, broken multipart, an unknown route or method, a bad id or query, a garbage token.
 */
import fc from 'fast-check';

/** `nullableString`: a string where `null` is valid too (PATCH clears a field with it). */
type Kind = 'string' | 'nullableString' | 'array' | 'boolean' | 'object';

interface JsonRoute {
  /** @default 'POST' */
  method?: 'POST' | 'PATCH';
  path: string;
  base: Record<string, unknown>;
  fields: Record<string, { kind: Kind; max?: number; required?: boolean }>;
}

const JSON_ROUTES: JsonRoute[] = [
  {
    path: '/v1/messages',
    base: { group: 'ops', text: 'hello' },
    fields: {
      group: { kind: 'string', max: 64, required: true },
      to: { kind: 'array' },
      text: { kind: 'string', max: 100_000, required: true },
      format: { kind: 'string' },
      title: { kind: 'string', max: 256 },
      vars: { kind: 'object' },
      mention: { kind: 'array' },
      mentionAll: { kind: 'boolean' },
      idempotencyKey: { kind: 'string', max: 200 },
    },
  },
  {
    path: '/v1/tasks',
    base: { title: 'Ship', assignees: ['Alice'] },
    fields: {
      title: { kind: 'string', max: 200, required: true },
      description: { kind: 'string', max: 4_000 },
      assignees: { kind: 'array', required: true },
      group: { kind: 'string', max: 64 },
      due: { kind: 'string' },
      priority: { kind: 'string' },
      idempotencyKey: { kind: 'string', max: 200 },
    },
  },
  { path: '/v1/tasks/1/done', base: { note: 'ok' }, fields: { note: { kind: 'string', max: 1_000 } } },
  {
    method: 'PATCH',
    path: '/v1/tasks/1',
    base: { title: 'Ship' },
    fields: {
      title: { kind: 'string', max: 200 },
      description: { kind: 'nullableString', max: 4_000 },
      due: { kind: 'nullableString' },
      group: { kind: 'nullableString', max: 64 },
      addAssignees: { kind: 'array' },
      removeAssignees: { kind: 'array' },
    },
  },
  {
    path: '/v1/deliveries/redrive',
    base: { ids: ['dlv_1'] },
    fields: { ids: { kind: 'array', required: true } },
  },
];

const KNOWN_GET = [
  '/v1/tasks',
  '/v1/deliveries',
  '/v1/deliveries/dead',
  '/v1/files',
  '/v1/people',
  '/v1/events/recent',
];

export interface BadRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | FormData;
  /** Set when the request is bad only for its token, not its content. */
  token?: 'none' | 'garbage';
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

function wrongValue(kind: Kind): fc.Arbitrary<unknown> {
  const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const str = fc.string({ maxLength: 20 });
  const arr = fc.array(anyJson, { maxLength: 3 });
  const obj = fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), anyJson, { maxKeys: 3 });
  switch (kind) {
    case 'string':
      return fc.oneof(num, fc.boolean(), fc.constant(null), arr, obj);
    case 'nullableString':
      return fc.oneof(num, fc.boolean(), arr, obj);
    case 'array':
      return fc.oneof(num, fc.boolean(), fc.constant(null), str, obj);
    case 'boolean':
      return fc.oneof(num, fc.constant(null), str, arr, obj, fc.constantFrom('true', 'false', 1, 0));
    case 'object':
      return fc.oneof(num, fc.boolean(), fc.constant(null), str, arr);
  }
}

const route = fc.constantFrom(...JSON_ROUTES);
const jsonHeaders = { 'content-type': 'application/json' };

const wrongType = route.chain((r) =>
  fc.constantFrom(...Object.keys(r.fields)).chain((f) =>
    wrongValue(r.fields[f]!.kind).map(
      (v): BadRequest => ({
        label: `wrong type ${r.path}.${f}`,
        method: r.method ?? 'POST',
        path: r.path,
        headers: jsonHeaders,
        body: JSON.stringify({ ...r.base, [f]: v }),
      }),
    ),
  ),
);

const missing = route
  .filter((r) => Object.values(r.fields).some((f) => f.required))
  .chain((r) =>
    fc.constantFrom(...Object.keys(r.fields).filter((f) => r.fields[f]!.required)).map((f): BadRequest => {
      const body = { ...r.base };
      delete body[f];
      return {
        label: `missing ${r.path}.${f}`,
        method: r.method ?? 'POST',
        path: r.path,
        headers: jsonHeaders,
        body: JSON.stringify(body),
      };
    }),
  );

const unknownField = route.chain((r) =>
  fc
    .tuple(
      fc.string({ minLength: 1, maxLength: 30 }).filter((k) => !(k in r.fields)),
      anyJson,
    )
    .map(
      ([k, v]): BadRequest => ({
        label: `unknown field ${r.path}`,
        method: r.method ?? 'POST',
        path: r.path,
        headers: jsonHeaders,
        body: `${JSON.stringify(r.base).slice(0, -1)}${Object.keys(r.base).length ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v ?? null)}}`,
      }),
    ),
);

const tooLong = route
  .filter((r) => Object.values(r.fields).some((f) => f.max !== undefined))
  .chain((r) => {
    const strings = Object.keys(r.fields).filter((f) => r.fields[f]!.max !== undefined);
    return fc
      .tuple(
        fc.constantFrom(...strings),
        fc.integer({ min: 1, max: 3_000 }),
        fc.constantFrom('x', 'é', '😀', '\u0000'),
      )
      .map(([f, extra, ch]): BadRequest => {
        const len = r.fields[f]!.max! + extra;
        return {
          label: `too long ${r.path}.${f}`,
          method: r.method ?? 'POST',
          path: r.path,
          headers: jsonHeaders,
          body: JSON.stringify({ ...r.base, [f]: ch.repeat(len) }),
        };
      });
  });

const notJson = fc
  .tuple(
    route,
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 200 }).filter((s) => {
        if (s.trim() === '') return false;
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n - 1)}`),
      fc.constantFrom('{', '{"text":', '[1,2', "{'a':1}", '\u0000', '{"a":1}{"b":2}', 'NaN', 'undefined'),
    ),
  )
  .map(
    ([r, body]): BadRequest => ({
      label: `not json ${r.path}`,
      method: r.method ?? 'POST',
      path: r.path,
      headers: jsonHeaders,
      body,
    }),
  );

const notAnObject = fc
  .tuple(
    route,
    fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(anyJson, { maxLength: 3 }), fc.boolean()),
  )
  .map(
    ([r, v]): BadRequest => ({
      label: `not an object ${r.path}`,
      method: r.method ?? 'POST',
      path: r.path,
      headers: jsonHeaders,
      body: JSON.stringify(v),
    }),
  );

const deepVars = fc.integer({ min: 2, max: 5_000 }).map(
  (n): BadRequest => ({
    label: 'deeply nested vars',
    method: 'POST',
    path: '/v1/messages',
    headers: jsonHeaders,
    body: `{"group":"ops","text":"x","vars":{"a":${'{"b":'.repeat(n)}1${'}'.repeat(n)}}}`,
  }),
);

const wrongContentType = fc
  .tuple(
    route,
    fc.constantFrom(
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'json',
      'application/vnd.api+json',
    ),
  )
  .map(
    ([r, type]): BadRequest => ({
      label: `content type ${type}`,
      method: 'POST',
      path: r.path,
      headers: { 'content-type': type },
      body: JSON.stringify(r.base),
    }),
  );

const boundary = 'fuzzBoundary';
const badMultipart = fc
  .oneof(
    fc.string({ maxLength: 300 }),
    fc.constantFrom(
      `--${boundary}--\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\nno-filename\r\n--${boundary}--\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="group"\r\n\r\nops\r\n--${boundary}--\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\ntruncated`,
      `--${boundary}\r\nno headers at all\r\n--${boundary}--`,
    ),
  )
  .chain((body) =>
    fc
      .constantFrom(
        `multipart/form-data; boundary=${boundary}`,
        'multipart/form-data',
        'multipart/mixed; boundary=x',
      )
      .map(
        (type): BadRequest => ({
          label: 'bad multipart',
          method: 'POST',
          path: '/v1/files',
          headers: { 'content-type': type },
          body,
        }),
      ),
  );

const badUploadFields = fc
  .record({
    fields: fc.dictionary(
      fc.oneof(
        fc.constantFrom('group', 'to', 'via', 'comment', 'publicUrl', 'fileName'),
        fc.string({ minLength: 1, maxLength: 10 }),
      ),
      fc.string({ maxLength: 40 }),
      { maxKeys: 4 },
    ),
    withFile: fc.boolean(),
  })
  .filter(({ fields, withFile }) => {
    // Keep only uploads that are really malformed: no file, or fields that cannot form one valid destination.
    if (!withFile) return true;
    const keys = Object.keys(fields);
    const known = ['group', 'to', 'via', 'comment', 'publicUrl', 'fileName'];
    if (keys.some((k) => !known.includes(k))) return true;
    const okGroup =
      fields['group'] !== undefined &&
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(fields['group']) &&
      ['ops', 'dev'].includes(fields['group']);
    return (
      !(okGroup && fields['to'] === undefined) ||
      fields['via'] !== undefined ||
      fields['publicUrl'] !== undefined ||
      fields['fileName'] !== undefined
    );
  })
  .map(({ fields, withFile }): BadRequest => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (withFile) form.append('file', new Blob(['data']), 'a.txt');
    return { label: 'bad upload fields', method: 'POST', path: '/v1/files', headers: {}, body: form };
  });

const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,16}$/);
const unknownRoute = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
    fc.array(segment, { minLength: 1, maxLength: 4 }),
  )
  .filter(([, segs]) => !['v1', 'health', 'metrics', 'openapi.json'].includes(segs[0]!))
  .map(
    ([method, segs]): BadRequest => ({
      label: 'unknown route',
      method,
      path: `/${segs.join('/')}`,
      headers: {},
    }),
  );

const wrongMethod = fc
  .oneof(
    fc.tuple(fc.constantFrom('PUT', 'PATCH'), fc.constantFrom(...KNOWN_GET, '/v1/messages')),
    fc.tuple(fc.constant('PUT'), fc.constant('/v1/tasks/1')),
  )
  .map(([method, path]): BadRequest => ({ label: 'wrong method', method, path, headers: {} }));

const badTaskId = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/^\d+$/.test(s.trim()) || Number(s) === 0),
    fc.constantFrom('0', '-5', '1.5', '1e3', '0x10', '99999999999999999999', ' 1'),
  )
  .chain((id) =>
    fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE').map(
      (method): BadRequest => ({
        label: 'bad task id',
        method,
        path: `/v1/tasks/${encodeURIComponent(id)}${method === 'POST' ? '/done' : ''}`,
        headers: {},
      }),
    ),
  );

const badMessageId = fc.string({ minLength: 1, maxLength: 300 }).map(
  (id): BadRequest => ({
    label: 'bad message id',
    method: 'GET',
    path: `/v1/messages/${encodeURIComponent(id)}`,
    headers: {},
  }),
);

const badQuery = fc
  .oneof(
    fc.tuple(
      fc.constant('/v1/tasks'),
      fc.constantFrom('state', 'overdue', 'limit'),
      fc.string({ maxLength: 20 }),
    ),
    fc.tuple(fc.constant('/v1/deliveries'), fc.constantFrom('status', 'limit'), fc.string({ maxLength: 20 })),
    fc.tuple(
      fc.constantFrom(...KNOWN_GET),
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ maxLength: 12 }),
    ),
  )
  .filter(([, k, v]) => {
    const valid: Record<string, (v: string) => boolean> = {
      state: (x) => ['open', 'in_progress', 'done', 'cancelled'].includes(x),
      overdue: (x) => x === 'true' || x === 'false',
      status: (x) => ['queued', 'sending', 'sent', 'parked', 'dead', 'cancelled'].includes(x),
      limit: (x) => x.trim() !== '' && Number.isInteger(Number(x)) && Number(x) >= 1 && Number(x) <= 1000,
    };
    if (k === 'access_token') return false;
    const check = valid[k];
    return check ? !check(v) : true;
  })
  .map(
    ([path, k, v]): BadRequest => ({
      label: `bad query ${path}?${k}`,
      method: 'GET',
      path: `${path}?${encodeURIComponent(k)}=${encodeURIComponent(v)}`,
      headers: {},
    }),
  );

const badToken = fc
  .tuple(
    fc.constantFrom(...KNOWN_GET, '/metrics', '/v1/events'),
    fc.oneof(
      fc.constant(undefined),
      fc.stringMatching(/^[\x20-\x7e]{0,300}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/).map((s) => `Bearer ${s}`),
      fc.constantFrom('Bearer', 'Basic dXNlcjpwYXNz', 'bearer  ', 'Bearer dk_'),
    ),
  )
  .map(
    ([path, header]): BadRequest => ({
      label: 'bad token',
      method: 'GET',
      path,
      headers: header === undefined ? {} : { authorization: header },
      token: header === undefined ? 'none' : 'garbage',
    }),
  );

export const malformedRequest: fc.Arbitrary<BadRequest> = fc.oneof(
  wrongType,
  missing,
  unknownField,
  tooLong,
  notJson,
  notAnObject,
  deepVars,
  wrongContentType,
  badMultipart,
  badUploadFields,
  unknownRoute,
  wrongMethod,
  badTaskId,
  badMessageId,
  badQuery,
  badToken,
);

/**
 * The payload kinds a route can take (`gateways.routes[].kind`): each turns a request's JSON into items and a dedupe
 * key, or refuses it with a 400 that names the field. A new sender is one entry here (docs/gateways.md).
 *
 * A kind sees the parsed JSON, the exact bytes (a body's hash is a dedupe key of last resort) and the request's
 * headers (GitHub names the event and the delivery in headers, not in the body).
 */

import { z } from 'zod';
import { alertmanagerBody, alertmanagerItems } from './alertmanager.js';
import type { HookRoute } from './config.js';
import { genericItems } from './generic.js';
import type { ParsedHook } from './items.js';
import { alertmanagerSamples } from './samples/alertmanager.js';
import { genericSamples } from './samples/generic.js';
import type { HookSample } from './samples/sample.js';

export interface KindInput {
  body: unknown;
  raw: Buffer;
  header: (name: string) => string | undefined;
  route: HookRoute;
}

/** A refusal of the payload: answered 400 (or what `status` says) `{error:{code,message,details}}`. */
export interface KindRefusal {
  status?: number;
  code: string;
  message: string;
  details?: Array<{ path: string; message: string }>;
}

export type KindResult = { ok: true; parsed: ParsedHook } | { ok: false; refusal: KindRefusal };

export interface HookKind {
  parse(input: KindInput): KindResult;
  /** Example payloads, written from the sender's documentation: `dingkit hooks test` posts them. */
  samples: readonly HookSample[];
  /** The body's contract, when the kind has one: listed in `/openapi.json` under `POST /hooks/{name}`. */
  schema?: z.ZodType | undefined;
}

/** A refusal naming the first bad field, as the API's contracts do (api-error.ts). */
export function zodRefusal(e: z.ZodError): KindRefusal {
  const details = e.issues.slice(0, 20).map((i) => ({
    path: i.path.map(String).join('.').slice(0, 200),
    message: i.message.slice(0, 300),
  }));
  const first = details[0];
  return {
    code: 'invalid_payload',
    message: first ? `${first.path || '(body)'}: ${first.message}` : 'invalid payload',
    details,
  };
}

const alertmanager: HookKind = {
  parse({ body }) {
    const r = alertmanagerBody.safeParse(body);
    return r.success
      ? { ok: true, parsed: alertmanagerItems(r.data) }
      : { ok: false, refusal: zodRefusal(r.error) };
  },
  samples: alertmanagerSamples,
  schema: alertmanagerBody.describe('Alertmanager webhook body, version 4 (kind alertmanager)'),
};

const generic: HookKind = {
  parse({ body, raw, header, route }) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return { ok: false, refusal: { code: 'invalid_payload', message: '(body): expected a JSON object' } };
    }
    const key = header(route.idempotencyHeader);
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
      return {
        ok: false,
        refusal: {
          code: 'invalid_idempotency_key',
          message: `${route.idempotencyHeader} must be 1-200 printable ASCII characters`,
        },
      };
    }
    return { ok: true, parsed: genericItems(body, raw, key) };
  },
  samples: genericSamples,
  schema: z.record(z.string(), z.unknown()).describe('Any JSON object (kind generic)'),
};

export const HOOK_KINDS: Record<HookRoute['kind'], HookKind> = {
  alertmanager,
  generic,
};

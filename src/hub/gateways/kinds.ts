/**
 * The payload kinds a route can take (`gateways.routes[].kind`): each turns a request's JSON into items and a dedupe
 * key, or refuses it with a 400 that names the field. A new sender is one entry here (docs/gateways.md).
 *
 * A kind sees the parsed JSON, the exact bytes (a body's hash is a dedupe key of last resort) and the request's
 * headers (GitHub names the event and the delivery in headers, not in the body).
 */

export type { HookKind, KindInput, KindRefusal, KindResult } from './kind-contract.js';
export { zodRefusal } from './kind-contract.js';

import { z } from 'zod';
import { alertmanagerBody, alertmanagerItems } from './alertmanager.js';
import type { HookRoute } from './config.js';
import { genericItems } from './generic.js';
import { parseGithub } from './github.js';
import { grafanaBody, grafanaItems } from './grafana.js';
import { type HookKind, zodRefusal } from './kind-contract.js';
import { alertmanagerSamples } from './samples/alertmanager.js';
import { genericSamples } from './samples/generic.js';
import { githubSamples } from './samples/github.js';
import { grafanaSamples } from './samples/grafana.js';

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

const grafana: HookKind = {
  parse({ body }) {
    const r = grafanaBody.safeParse(body);
    return r.success
      ? { ok: true, parsed: grafanaItems(r.data) }
      : { ok: false, refusal: zodRefusal(r.error) };
  },
  samples: grafanaSamples,
};

const github: HookKind = {
  parse({ body, header, route, githubPerson, locale, now, maxAgeMs }) {
    return parseGithub(
      {
        body,
        event: header('x-github-event'),
        delivery: header('x-github-delivery'),
        person: githubPerson ?? (() => undefined),
        locale: route.locale ?? locale ?? 'en',
        push: route.github.push,
        now: now ?? Date.now(),
        maxAgeMs: maxAgeMs ?? 7 * 86_400_000,
      },
      zodRefusal,
    );
  },
  samples: githubSamples,
};

export const HOOK_KINDS: Record<HookRoute['kind'], HookKind> = {
  alertmanager,
  generic,
  grafana,
  github,
};

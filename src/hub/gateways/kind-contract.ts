/** What a payload kind is (kinds.ts holds the kinds): its parser's input and answer, and its samples. */

import type { z } from 'zod';
import type { Locale } from '../locale.js';
import type { HookRoute } from './config.js';
import type { ParsedHook } from './items.js';
import type { HookSample } from './samples/sample.js';

export interface KindInput {
  body: unknown;
  raw: Buffer;
  header: (name: string) => string | undefined;
  route: HookRoute;
  /** The directory key of a GitHub login (`people.<key>.github`), case-insensitive. */
  githubPerson?: ((login: string) => string | undefined) | undefined;
  /** The message language: the route's `locale`, else the hub's. */
  locale?: Locale | undefined;
  /** Epoch ms (GitHub: how old a delivery's event is). @default Date.now() */
  now?: number | undefined;
  /** GitHub: events older than this are refused, since their dedupe rows may be gone. @default 7 days */
  maxAgeMs?: number | undefined;
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

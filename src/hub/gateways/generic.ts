/**
 * A generic route takes any JSON object. It becomes one `event` item whose labels are the body's scalar fields
 * (dotted paths, `alert.severity`), so the same rules route it; the template sees the whole body.
 *
 * Dedupe: the sender's idempotency header when it sends one (a retry of one delivery carries the same), else the
 * SHA-256 of the raw body (an exact resend is the same delivery).
 */

import { createHash } from 'node:crypto';
import type { ParsedHook } from './items.js';

const MAX_LABELS = 200;
const MAX_DEPTH = 4;

/** Scalar fields by dotted path, at most MAX_LABELS of them, MAX_DEPTH deep; `__proto__`-like keys skipped. */
export function flattenLabels(body: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  const walk = (v: unknown, path: string, depth: number) => {
    if (n >= MAX_LABELS) return;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      if (path) {
        out[path] = String(v).slice(0, 1_024);
        n++;
      }
      return;
    }
    if (depth >= MAX_DEPTH || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      walk(child, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(body, '', 0);
  return { ...out };
}

export function genericItems(body: unknown, raw: Buffer, idempotency: string | undefined): ParsedHook {
  const key = idempotency ?? createHash('sha256').update(raw).digest('hex');
  return {
    dedupKey: `${idempotency === undefined ? 'sha256' : 'key'}:${key}`,
    items: [{ kind: 'event', labels: flattenLabels(body), annotations: {}, body }],
  };
}

/**
 * JSON columns: what goes in must be plain JSON and must not carry a secret-named field (
 * the store holds no secret material, jobs name robots and apps instead).
 */

import { ValidationError } from '../core/errors.js';
import { isSecretName } from '../core/redact.js';

function findSecretField(value: unknown, path: string, depth: number): string | undefined {
  if (depth > 32) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findSecretField(value[i], `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      if (isSecretName(k)) return p;
      const hit = findSecretField(v, p, depth + 1);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Serialises `value` for a JSON column; a secret-named field anywhere in it is a ValidationError. */
export function toJsonColumn(value: unknown, field: string): string {
  const secret = findSecretField(value, '', 0);
  if (secret) {
    throw new ValidationError(
      `must not carry secrets (field "${secret}"); name the robot or app instead`,
      field,
    );
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value ?? null);
  } catch (e) {
    throw new ValidationError(`is not serialisable as JSON (${(e as Error).message})`, field);
  }
  if (text === undefined) throw new ValidationError('is not serialisable as JSON', field);
  return text;
}

export function fromJsonColumn(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * Markdown templates with `{{name}}` variables (`{{ name }}` too). A variable that is not given is an error
 * naming it, not an empty string: a message that silently lost its content is worse than no message.
 */

import { ValidationError } from '../../core/errors.js';

const VAR = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

export function renderTemplate(template: string, vars: Record<string, unknown>): string {
  const missing = new Set<string>();
  const out = template.replace(VAR, (_, path: string) => {
    const v = lookup(vars, path);
    if (v === undefined || v === null) {
      missing.add(path);
      return '';
    }
    return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  if (missing.size > 0)
    throw new ValidationError(`missing template variables: ${[...missing].join(', ')}`, 'vars');
  return out;
}

export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(VAR)].map((m) => m[1]!))];
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  let cur: unknown = vars;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
